"""RFC 9497 OPRF(ristretto255, SHA-512): the published vectors, the wire form, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from libs.common.errors import InvalidInput
from libs.common.identity import group, oprf
from libs.common.identity.keyring import KEY_INFO, PrfKeyRing, new_seed

VECTORS_NAME = "rfc9497-oprf-ristretto255-sha512.json"
# The vectors live in the project (tests/vectors/), so a bare clone checks them.
VECTORS = Path(__file__).resolve().parents[2] / "vectors" / VECTORS_NAME


def _load_vectors() -> dict[str, Any]:
    """The RFC 9497 vectors from tests/vectors/; a missing file is a failure, not a skip."""
    if not VECTORS.is_file():
        pytest.fail(f"{VECTORS} is missing: the RFC 9497 vectors must be in the project")
    data: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return data


def test_the_rfc_9497_vectors_are_in_the_project() -> None:
    vectors = _load_vectors()
    assert vectors["source"].startswith("RFC 9497")
    assert {"Seed", "KeyInfo", "skSm", "vectors"} <= set(vectors)


def test_derive_key_pair_reproduces_rfc_9497_sksm() -> None:
    vectors = _load_vectors()
    key = oprf.derive_key_pair(
        bytes.fromhex(vectors["Seed"]), bytes.fromhex(vectors["KeyInfo"]), version=1
    )
    assert key.secret.hex() == vectors["skSm"]
    assert key.public == group.multiply_base(key.secret)


def test_blind_evaluate_finalize_reproduce_rfc_9497_vectors() -> None:
    vectors = _load_vectors()
    key = oprf.derive_key_pair(
        bytes.fromhex(vectors["Seed"]), bytes.fromhex(vectors["KeyInfo"]), version=1
    )
    assert len(vectors["vectors"]) >= 2
    for vector in vectors["vectors"]:
        data = bytes.fromhex(vector["Input"])
        blinded = oprf.blind([data], blinds=[bytes.fromhex(vector["Blind"])])
        assert blinded[0].element.hex() == vector["BlindedElement"]
        evaluated = oprf.evaluate(key, [blinded[0].element])
        assert evaluated[0].hex() == vector["EvaluationElement"]
        assert oprf.finalize(blinded, evaluated)[0].hex() == vector["Output"]


def test_fresh_blinds_hide_the_input_but_give_the_same_output() -> None:
    key = PrfKeyRing().add(1, new_seed())
    first, second = oprf.blind([b"same input"]), oprf.blind([b"same input"])
    assert first[0].element != second[0].element
    out1 = oprf.finalize(first, oprf.evaluate(key, [first[0].element]))
    out2 = oprf.finalize(second, oprf.evaluate(key, [second[0].element]))
    assert out1 == out2
    assert len(out1[0]) == oprf.OUTPUT_BYTES


def test_outputs_depend_on_the_key_and_the_input() -> None:
    ring = PrfKeyRing()
    one, two = ring.add(1, new_seed()), ring.add(2, new_seed())
    blinded = oprf.blind([b"a", b"b"])
    elements = [state.element for state in blinded]
    under_one = oprf.finalize(blinded, oprf.evaluate(one, elements))
    under_two = oprf.finalize(blinded, oprf.evaluate(two, elements))
    assert under_one[0] != under_one[1]
    assert set(under_one).isdisjoint(under_two)


@pytest.mark.parametrize(
    "bad",
    [
        bytes(32),  # the identity element
        b"\xff" * 32,  # not a canonical encoding
        b"\x01" * 31,  # wrong length
        b"",
    ],
)
def test_evaluate_refuses_invalid_elements(bad: bytes) -> None:
    key = PrfKeyRing().add(1, new_seed())
    good = oprf.blind([b"x"])[0].element
    with pytest.raises(InvalidInput):
        oprf.evaluate(key, [good, bad])


def test_evaluate_refuses_an_oversized_batch() -> None:
    key = PrfKeyRing().add(1, new_seed())
    element = oprf.blind([b"x"])[0].element
    with pytest.raises(InvalidInput):
        oprf.evaluate(key, [element] * (oprf.MAX_BATCH + 1))


def test_finalize_refuses_a_short_or_invalid_answer() -> None:
    blinded = oprf.blind([b"x", b"y"])
    with pytest.raises(InvalidInput):
        oprf.finalize(blinded, [blinded[0].element])
    with pytest.raises(InvalidInput):
        oprf.finalize(blinded, [blinded[0].element, bytes(32)])


def test_wire_form_is_unpadded_base64url_and_strict() -> None:
    elements = [state.element for state in oprf.blind([b"x", b"y"])]
    texts = oprf.encode_elements(elements)
    assert all(len(text) == 43 and "=" not in text for text in texts)
    assert oprf.decode_elements(texts) == elements
    for bad in ["", "AAAA", texts[0] + "A", texts[0][:-1] + "!", "A" * 43]:
        with pytest.raises(InvalidInput):
            oprf.decode_elements([bad])


def test_key_pair_repr_never_shows_the_secret() -> None:
    key = oprf.derive_key_pair(b"\x07" * 32, KEY_INFO, version=3)
    assert key.secret.hex() not in repr(key)
    assert repr(key.secret) not in repr(key)


def test_keyring_evaluates_by_version_and_refuses_retired_ones() -> None:
    ring = PrfKeyRing()
    ring.add(1, new_seed())
    ring.add(2, new_seed())
    assert ring.current == 2
    element = oprf.blind([b"x"])[0].element
    assert ring.evaluate([element], version=1) != ring.evaluate([element])
    ring.retire(1)
    with pytest.raises(InvalidInput):
        ring.evaluate([element], version=1)
    with pytest.raises(ValueError, match="current"):
        ring.retire(2)
    with pytest.raises(ValueError, match="higher"):
        ring.add(1, new_seed())


def test_expand_message_xmd_matches_rfc_9380_sha512_vector() -> None:
    # RFC 9380 K.3, expand_message_xmd(SHA-512), msg "", len_in_bytes 0x20.
    dst = b"QUUX-V01-CS02-with-expander-SHA512-256"
    expected = "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"
    assert oprf.expand_message_xmd(b"", dst, 0x20).hex() == expected


def test_expand_message_xmd_fills_several_blocks() -> None:
    # RFC 9380 K.3, msg "abc", len_in_bytes 0x80: two SHA-512 blocks chained.
    dst = b"QUUX-V01-CS02-with-expander-SHA512-256"
    expected = (
        "7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11bdd7732d8b38adb4a0edc2"
        "6a0cef4bb45217135456e58fbca1703cd6032cb1347ee720b87972d63fbf232587043ed2901bce7f22610c"
        "0419751c065922b488431851041310ad659e4b23520e1772ab29dcdeb2002222a363f0c2b1c972b3efe1"
    )
    assert oprf.expand_message_xmd(b"abc", dst, 0x80).hex() == expected


RFC_9496_MULTIPLES = [  # RFC 9496 A.1: encodings of B, 2B, 3B, 4B
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
    "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
]


def test_group_reproduces_rfc_9496_generator_multiples() -> None:
    for factor, expected in enumerate(RFC_9496_MULTIPLES, 1):
        assert group.multiply_base(factor.to_bytes(32, "little")).hex() == expected


@pytest.mark.parametrize(
    "encoding",
    [
        "0100000000000000000000000000000000000000000000000000000000000000",  # negative s
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # s = p
        "0000000000000000000000000000000000000000000000000000000000000000",  # identity
    ],
)
def test_group_refuses_bad_and_identity_encodings(encoding: str) -> None:
    assert not group.is_element(bytes.fromhex(encoding))
