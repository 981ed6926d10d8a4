"""Code scanning: the languages CodeQL analyses, as GitHub names them.

GitHub's list of CodeQL language identifiers (docs.github.com, "Customizing your advanced setup
for code scanning", the table kept in github/docs as
data/reusables/code-scanning/codeql-language-identifiers-table.md, read at commit 5ce330d5). The
alternative identifiers it lists (c, cpp, java, kotlin, javascript, typescript) mean the same and
are not accepted, so that one language has one name here. Rust, in public preview, is not in
that table and not accepted.
"""

from __future__ import annotations

from typing import Literal

CodeqlLanguage = Literal[
    "actions", "c-cpp", "csharp", "go", "java-kotlin", "javascript-typescript", "python", "ruby",
    "swift",
]  # fmt: skip
