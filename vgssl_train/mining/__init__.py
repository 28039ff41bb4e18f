"""GeoPair mining: positives by position then feature, hard negatives by FAISS (pure functions)."""

from vgssl_train.mining.geopair import MINING_MODES, Pairs, database_to_embed, mine_pairs, trainable_queries

__all__ = ["MINING_MODES", "Pairs", "database_to_embed", "mine_pairs", "trainable_queries"]
