from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from govshare.kit.uscc import ALPHABET, make_uscc, uscc_problem


def test_known_codes() -> None:
    assert uscc_problem("91350100M000100Y43") is None
    assert uscc_problem("91350100M000100Y44") == "统一社会信用代码校验位错误,应为 3"
    assert uscc_problem("9135010") == "统一社会信用代码应为18位"
    assert uscc_problem("91350100M000100YI3") is not None  # I is not in the alphabet


@given(st.text(alphabet=ALPHABET, min_size=9, max_size=9), st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_made_codes_validate_and_any_changed_character_is_caught(body: str, area: str) -> None:
    code = make_uscc("11" + area + body)
    assert uscc_problem(code) is None
    wrong = ALPHABET[(ALPHABET.index(code[17]) + 1) % 31]
    assert uscc_problem(code[:17] + wrong) is not None
