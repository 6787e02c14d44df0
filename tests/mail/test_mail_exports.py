"""nurture.mail exports exactly its public names, sorted (as httpx checks its own)."""

import nurture.mail


def test_all_lists_the_public_names_sorted():
    public = {name for name in vars(nurture.mail) if not name.startswith("_")}
    submodules = {"check", "context", "environment", "errors", "render", "text"}

    assert nurture.mail.__all__ == sorted(nurture.mail.__all__)
    assert set(nurture.mail.__all__) == public - submodules
