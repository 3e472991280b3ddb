"""Generated documentation: the data dictionary in ``docs/data-dictionary.md`` and in the
README between its markers, and ``CITATION.cff``, all from the metadata model
(``core.model``: package.yaml and the Table Schemas)."""

from __future__ import annotations

from pathlib import Path

from newstables.core.model import load_model
from newstables.errors import NewstablesError
from newstables.metadata import citation_cff, data_dictionary
from newstables.project import Project

BEGIN = "<!-- BEGIN data-dictionary -->"
END = "<!-- END data-dictionary -->"
DICTIONARY = Path("docs/data-dictionary.md")
README = Path("README.md")
CITATION = Path("CITATION.cff")


def readme_section(dictionary: str) -> str:
    """The dictionary as a README section: without its title, headings one level down."""
    body = dictionary.split("\n## ", 1)[1]
    return "### " + body.replace("\n## ", "\n### ")


def with_section(readme: str, section: str) -> str:
    """The README text with the generated section between its markers."""
    if BEGIN not in readme or END not in readme:
        raise NewstablesError(
            "metadata-invalid",
            file=str(README),
            field=BEGIN,
            detail="the README lacks the data-dictionary markers",
        )
    head, rest = readme.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{section.rstrip()}\n{END}{tail}"


def generated_docs(project: Project) -> dict[Path, str]:
    """The generated text of every documentation file, by project-relative path."""
    model = load_model(project.root)
    dictionary = data_dictionary(model)
    readme_path = project.path(README)
    if not readme_path.is_file():
        raise NewstablesError(
            "file-missing", file=str(README), expected="the project README with the data-dictionary markers"
        )
    readme = readme_path.read_text(encoding="utf-8")
    return {
        DICTIONARY: dictionary,
        README: with_section(readme, readme_section(dictionary)),
        CITATION: citation_cff(model.package),
    }


def write_docs(project_root: Path, check: bool = False) -> list[Path]:
    """Regenerate the docs (or, with ``check``, only report); return the files that differ.

    Example: ``write_docs(Path("."))`` after editing a field description in ``schemas/``.
    """
    project = Project(project_root.resolve())
    stale = []
    for relative, text in generated_docs(project).items():
        path = project.path(relative)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(relative)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return stale
