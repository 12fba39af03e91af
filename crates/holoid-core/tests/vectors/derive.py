# holoid v2 derivation vectors, computed independently of the Rust code:
#   pip install reedsolo==1.7.0 && python3 derive.py > holoid-v2.txt
import hmac, hashlib, struct
import reedsolo
M = bytes(range(32)); ID = b"KR-RRC-00000001"; PERIOD = 5; W = 352813558
def h(k, *parts): return hmac.new(k, b"".join(parts), hashlib.sha256).digest()
def derive(kdev):
    seed = h(kdev, b"holoid/v1/window", struct.pack(">Q", W))
    loc = hashlib.sha256(b"holoid/v1/locator" + ID).digest()[:8]
    header = bytes([1, PERIOD]) + struct.pack(">I", W & 0xffffffff) + loc
    tag = h(seed, b"holoid/v1/code-tag", header)[:6]
    payload = header + tag
    rs = reedsolo.RSCodec(40, nsize=255, fcr=0, prim=0x11d, generator=2)
    cw = bytes(rs.encode(payload))
    x = 0x686f6c6f; white = []
    for _ in range(60):
        x ^= (x << 13) & 0xffffffff; x ^= x >> 17; x ^= (x << 5) & 0xffffffff
        white.append(x & 0xff)
    cw = bytes(a ^ b for a, b in zip(cw, white))
    return seed, payload, cw
print("# holoid v2 derivation vectors, computed independently by derive.py beside this file")
print("# (Python hmac/hashlib, reedsolo 1.7) from master key 000102..1f, credential id")
print("# KR-RRC-00000001, period 5 s, window 352813558; epoch 1 unless named.")
print("# name value_hex")
def kdev(epoch): return h(M, b"holoid/v2/device", struct.pack(">I", epoch), ID)
seed, payload, cw = derive(kdev(1))
print("device_key", kdev(1).hex())
print("device_key_epoch_2", kdev(2).hex())
print("device_key_check", h(kdev(1), b"holoid/v2/device-check")[:16].hex())
print("window_seed", seed.hex())
print("payload", payload.hex())
print("codeword", cw.hex())
