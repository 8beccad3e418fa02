"""Published small-order Ed25519 and low-order X25519 encodings, canonical and not.

Ed25519: the eight points of order 1, 2, 4 and 8 and six non-canonical spellings of them
(RFC 8032 §5.1.3; Chalkias, Garillot, Nikolaenko, "Taming the many EdDSAs", 2020).
X25519: libsodium's blocklist (RFC 7748 §6.1) and the same values with the ignored top bit set.
"""

from __future__ import annotations

ED25519_SMALL_ORDER_CANONICAL = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
]
ED25519_SMALL_ORDER_NON_CANONICAL = [
    "0100000000000000000000000000000000000000000000000000000000000080",  # identity, x = -0
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # order 2, x = -0
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # y = p + 1, x = -0
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  # y = p
]
ED25519_IDENTITY = bytes.fromhex(ED25519_SMALL_ORDER_CANONICAL[0])

X25519_LOW_ORDER_CANONICAL = [
    "0000000000000000000000000000000000000000000000000000000000000000",  # 0
    "0100000000000000000000000000000000000000000000000000000000000000",  # 1
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  # order 8
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  # order 8
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p - 1
]
X25519_LOW_ORDER_NON_CANONICAL = [
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # p + 1
    *(
        h[:-2] + f"{int(h[-2:], 16) | 0x80:02x}"  # the same with the top bit set
        for h in [*X25519_LOW_ORDER_CANONICAL, "edff" + "ff" * 29 + "7f", "eeff" + "ff" * 29 + "7f"]
    ),
]
