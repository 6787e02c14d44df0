"""nurture.mail exports exactly its public names, sorted (as httpx checks its own)."""

import inspect

import nurture.mail


def test_all_lists_the_public_names_sorted():
    public = {
        name
        for name, value in vars(nurture.mail).items()
        if not name.startswith("_") and not inspect.ismodule(value)  # submodules, once imported
    }

    assert nurture.mail.__all__ == sorted(nurture.mail.__all__)
    assert set(nurture.mail.__all__) == public
