"""The four tradeops services, each owning one Postgres schema."""
