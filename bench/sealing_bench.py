"""Benchmark of sealing personal data (`services.personal_data.keys`): AES-256-GCM seal and open of
a phone number and of an applicant's JSON as intake keeps it, and a blind index, per call. Prints
JSON (median of several runs) on stdout; `python -m bench` sets the figures beside the CPU a dossier
costs end to end.

    PYTHONPATH=. .venv/bin/python bench/sealing_bench.py [--n 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from services.personal_data.keys import KeyRing, new_key, ring_text

APPLICANT = {
    "kind": "citizen",
    "name": "Nguyễn Thị Lan",
    "citizen_id": "079190001234",
    "phone": "0912345678",
    "email": "nguyen.thi.lan@example.vn",
    "address": "12 Lê Lợi, Phường 1, Thành phố Huế",
    "notify_channels": ["sms", "email"],
    "language": "vi",
    "result_delivery": "counter",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    keys = KeyRing.from_text(ring_text({"k1": new_key()}), new_key())
    applicant = json.dumps(APPLICANT, ensure_ascii=False)
    phone = keys.seal("0912345678", purpose="p") or ""
    sealed = keys.seal(applicant, purpose="a") or ""

    def timed(call: Callable[[], object]) -> dict[str, float]:
        samples = []
        for _ in range(args.runs):
            t = time.perf_counter()
            for _ in range(args.n):
                call()
            samples.append(time.perf_counter() - t)
        return {"us_per_call": round(statistics.median(samples) / args.n * 1e6, 2)}

    print(
        json.dumps(
            {
                "benchmark": "sealing",
                "n": args.n,
                "runs": args.runs,
                "applicant_json_bytes": len(applicant.encode()),
                "seal_phone": timed(lambda: keys.seal("0912345678", purpose="p")),
                "open_phone": timed(lambda: keys.open(phone, purpose="p")),
                "seal_applicant": timed(lambda: keys.seal(applicant, purpose="a")),
                "open_applicant": timed(lambda: keys.open(sealed, purpose="a")),
                "blind_index": timed(lambda: keys.index("079190001234", kind="citizen_id")),
            }
        )
    )


if __name__ == "__main__":
    main()
