"""The consumer's Python client (使用方客户端): from a product id to verified files on disk.

Through the consumer's **own** platform's management API (its API key) it finds an agreement
in force on the product — or negotiates one with the provider's listed offer — starts a pull
transfer and waits for the provider's data address; then it talks to the provider's gateway
with the pull token: reads ``/data/manifest``, downloads each file part with a progress bar,
resumes with ``Range``/``If-Range`` after a broken connection, refreshes the token when it
expires, verifies SHA-256 and SM3 against the manifest and moves the file into place only
then (atomically); table parts are fetched page by page as CSV, JSON Lines or Parquet.

    from shuchang.client import Puller
    puller = Puller("https://data.bank.example.cn", api_key="…")
    puller.pull(product_id, provider_id, out_dir, provider_catalog=…, provider_key=…)
"""

from shuchang.client.pull import Puller, PullError, PullResult

__all__ = ["PullError", "PullResult", "Puller"]
