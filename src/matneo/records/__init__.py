"""Birth records: the schema, validated loading and the partitioned Parquet store."""
