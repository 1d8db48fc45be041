"""Short tracking codes: what people type reads back, a slip of one character never does."""

from market.services.complaints import codes


def test_a_new_code_is_eight_crockford_characters_that_check():
    for _ in range(200):
        code = codes.new_code()
        assert len(code) == 8 and set(code) <= set(codes.ALPHABET)
        assert codes.normalize(code) == code


def test_typed_as_people_type_it():
    code = codes.new_code()
    typed = codes.display(code).lower().replace("0", "o").replace("1", "l")
    assert codes.normalize(typed) == code
    assert codes.normalize(" ".join(code)) == code


def test_every_single_wrong_character_is_caught():
    code = codes.new_code()
    for i, right in enumerate(code):
        for wrong in codes.ALPHABET.replace(right, ""):
            assert codes.normalize(code[:i] + wrong + code[i + 1 :]) is None


def test_not_a_code():
    for text in (None, "", "ABCDEFG", "ABCDEFGHJ", "ABCD-EFG!", "UUUUUUUU"):
        assert codes.normalize(text) is None
