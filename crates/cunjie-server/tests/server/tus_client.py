"""Uploads one photo to a Cunjie server with the official tus Python client (tuspy), exactly
as any standard tus client would: create, then PATCH in chunks with sha1 checksums.

Usage: python3 tus_client.py <uploads-url> <device-token> <file> <sha256-hex>
Needs `pip install tuspy` (module `tusclient`).
"""

import sys

try:
    from tusclient import client
except ImportError:
    sys.stderr.write("tuspy is not installed: run `pip install tuspy`\n")
    sys.exit(3)


def main() -> None:
    url, token, path, sha256 = sys.argv[1:5]
    tus = client.TusClient(url, headers={"Authorization": f"Bearer {token}"})
    uploader = tus.uploader(
        file_path=path,
        chunk_size=16 * 1024,
        metadata={"sha256": sha256, "filename": "photo.jpg", "filetype": "image/jpeg"},
        upload_checksum=True,
    )
    uploader.upload()
    print(uploader.url)


if __name__ == "__main__":
    main()
