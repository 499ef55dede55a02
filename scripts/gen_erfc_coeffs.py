"""Generate the Chebyshev coefficients of vaezip's deterministic erfc.

erfc(z) = t * exp(-z*z + h(u)) for z >= 0, with t = 2 / (2 + z) and
u = 2t - 1 in (-1, 1]. h is smooth on [-1, 1]; this script fits it with a
Chebyshev series at 60-digit precision (mpmath) and prints the coefficients
that ``vaezip/codecs/detmath.py`` pastes in. Run: python scripts/gen_erfc_coeffs.py
"""

import mpmath as mp

mp.mp.dps = 60
N = 96  # interpolation nodes


def h(u):
    t = (u + 1) / 2
    z = 2 / t - 2
    return mp.log(mp.erfc(z) / t) + z * z


nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / N) for k in range(N)]
values = [h(u) for u in nodes]
coeffs = []
for j in range(N):
    c = 2 * mp.fsum(values[k] * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / N) for k in range(N)) / N
    coeffs.append(c)
coeffs[0] /= 2
keep = [c for c in coeffs]
while abs(keep[-1]) < mp.mpf(10) ** -18:
    keep.pop()
print(f"# {len(keep)} terms; first dropped |c| = {abs(coeffs[len(keep)]) if len(keep) < N else 0}")
for c in keep:
    print(f"    {mp.nstr(c, 20)},")
