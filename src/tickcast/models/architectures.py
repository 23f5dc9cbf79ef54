"""Networks mapping pooled windows (samples, sequence, features) to next log returns (samples,).

Every sample is one ticker's window on one session; `sessions` (samples,) says which samples
share a session, which only the cross-stock model uses (attention across the tickers present on
that session; the others are masked out).
"""

from __future__ import annotations

import torch
from torch import nn


class StockLSTM(nn.Module):
    """One LSTM shared by every ticker over its own window; a linear head on the last state."""

    def __init__(self, features: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            features,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        output: torch.Tensor = self.lstm(x)[0]
        return output  # (samples, sequence, hidden)

    def represent(self, x: torch.Tensor, sessions: torch.Tensor | None = None) -> torch.Tensor:
        """What the head reads (samples, hidden): the last state."""
        last: torch.Tensor = self.encode(x)[:, -1]
        return last

    def read(self, represented: torch.Tensor) -> torch.Tensor:
        """The head's forecasts (samples,) from `represent`'s output."""
        returns: torch.Tensor = self.head(self.dropout(represented)).squeeze(-1)
        return returns

    def forward(self, x: torch.Tensor, sessions: torch.Tensor | None = None) -> torch.Tensor:
        return self.read(self.represent(x, sessions))


class StockLSTMWithAttention(StockLSTM):
    """StockLSTM whose head reads an attention-weighted sum over all time steps."""

    def __init__(self, features: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__(features, hidden_size, num_layers, dropout)
        self.score = nn.Linear(hidden_size, 1)

    def represent(self, x: torch.Tensor, sessions: torch.Tensor | None = None) -> torch.Tensor:
        states = self.encode(x)
        weights = torch.softmax(self.score(states), dim=1)  # (samples, sequence, 1)
        context: torch.Tensor = (weights * states).sum(dim=1)
        return context


class StockLSTMWithCrossStockAttention(nn.Module):
    """Each ticker's window encoded by a shared LSTM, then self-attention across the tickers
    present on the same session (padding masked), a residual and a linear head."""

    def __init__(self, features: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            features,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        heads = next(h for h in (4, 2, 1) if hidden_size % h == 0)
        self.attention = nn.MultiheadAttention(
            hidden_size, heads, dropout=dropout, batch_first=True
        )
        self.norm = nn.LayerNorm(hidden_size)
        self.head = nn.Linear(hidden_size, 1)

    def represent(self, x: torch.Tensor, sessions: torch.Tensor | None = None) -> torch.Tensor:
        """What the head reads (samples, hidden): each encoding after attending to the session."""
        _, (hidden, _) = self.lstm(x)
        encoded = hidden[-1]  # (samples, hidden)
        if sessions is None:
            sessions = torch.zeros(len(x), dtype=torch.long, device=x.device)
        padded, mask, order, slots = _by_session(encoded, sessions)
        mixed, _ = self.attention(padded, padded, padded, key_padding_mask=mask, need_weights=False)
        normed = self.norm(padded + mixed)  # (sessions, most, hidden)
        represented = torch.empty_like(encoded, dtype=normed.dtype)
        represented[order] = normed[slots[0], slots[1]]
        return represented

    def read(self, represented: torch.Tensor) -> torch.Tensor:
        """The head's forecasts (samples,) from `represent`'s output."""
        returns: torch.Tensor = self.head(represented).squeeze(-1)
        return returns

    def forward(self, x: torch.Tensor, sessions: torch.Tensor | None = None) -> torch.Tensor:
        return self.read(self.represent(x, sessions))


def _by_session(
    encoded: torch.Tensor, sessions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """(groups, most, hidden) padded encodings, the padding mask (True: empty), the sample order
    and each ordered sample's (group, slot)."""
    _, group = torch.unique(sessions, return_inverse=True)
    order = torch.argsort(group, stable=True)
    ordered = group[order]
    counts = torch.bincount(ordered)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(len(ordered), device=encoded.device) - starts[ordered]
    most = int(counts.max()) if len(counts) else 0
    padded = encoded.new_zeros(len(counts), most, encoded.shape[-1])
    padded[ordered, slot] = encoded[order]
    mask = torch.ones(len(counts), most, dtype=torch.bool, device=encoded.device)
    mask[ordered, slot] = False
    return padded, mask, order, (ordered, slot)


def build_network(
    name: str,
    features: int,
    hidden_size: int = 64,
    num_layers: int = 1,
    dropout: float = 0.0,
) -> nn.Module:
    """The network `name`, freshly initialised (seed torch first for determinism)."""
    if name not in NETWORKS:
        raise ValueError(f"{name!r} is not a network: expected one of {list(NETWORKS)}")
    return NETWORKS[name](features, hidden_size, num_layers, dropout)


# The networks by family name (each a family of `tickcast.families.networks`).
NETWORKS: dict[str, type[nn.Module]] = {
    "lstm": StockLSTM,
    "lstm_attention": StockLSTMWithAttention,
    "lstm_cross_stock": StockLSTMWithCrossStockAttention,
}
