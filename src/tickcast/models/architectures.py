"""Architectures mapping windows (batch, sequence, stocks, features) to next log returns (batch, stocks)."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import nn

from tickcast.config import TrainableArchitecture

Architecture = TrainableArchitecture | Literal["persistence"]
TRAINABLE: tuple[TrainableArchitecture, ...] = get_args(TrainableArchitecture)


class StockLSTM(nn.Module):
    """All stocks' features flattened per time step into one LSTM; a linear head per stock."""

    def __init__(
        self, stocks: int, features: int, hidden_size: int, num_layers: int, dropout: float
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            stocks * features,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, stocks)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        batch, sequence = x.shape[:2]
        output: torch.Tensor = self.lstm(x.reshape(batch, sequence, -1))[0]
        return output  # (batch, sequence, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        returns: torch.Tensor = self.head(self.dropout(self.encode(x)[:, -1]))
        return returns


class StockLSTMWithAttention(StockLSTM):
    """StockLSTM whose head reads an attention-weighted sum over all time steps."""

    def __init__(
        self, stocks: int, features: int, hidden_size: int, num_layers: int, dropout: float
    ) -> None:
        super().__init__(stocks, features, hidden_size, num_layers, dropout)
        self.score = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = self.encode(x)
        weights = torch.softmax(self.score(states), dim=1)  # (batch, sequence, 1)
        context = (weights * states).sum(dim=1)
        returns: torch.Tensor = self.head(self.dropout(context))
        return returns


class StockLSTMWithCrossStockAttention(nn.Module):
    """One shared LSTM encodes each stock's own history; self-attention then mixes the stocks."""

    def __init__(
        self, stocks: int, features: int, hidden_size: int, num_layers: int, dropout: float
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            features,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.stock_embedding = nn.Embedding(stocks, hidden_size)
        heads = next(h for h in (4, 2, 1) if hidden_size % h == 0)
        self.attention = nn.MultiheadAttention(
            hidden_size, heads, dropout=dropout, batch_first=True
        )
        self.norm = nn.LayerNorm(hidden_size)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, sequence, stocks, features = x.shape
        per_stock = x.permute(0, 2, 1, 3).reshape(batch * stocks, sequence, features)
        _, (hidden, _) = self.lstm(per_stock)
        encoded = hidden[-1].reshape(batch, stocks, -1) + self.stock_embedding.weight
        mixed, _ = self.attention(encoded, encoded, encoded, need_weights=False)
        returns: torch.Tensor = self.head(self.norm(encoded + mixed)).squeeze(-1)
        return returns


class Persistence(nn.Module):
    """Tomorrow's close = today's close: a zero log return for every stock."""

    def __init__(self, stocks: int) -> None:
        super().__init__()
        self.stocks = stocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[0], self.stocks)


def build_model(
    architecture: Architecture,
    stocks: int,
    features: int,
    hidden_size: int = 64,
    num_layers: int = 1,
    dropout: float = 0.0,
) -> nn.Module:
    """The network for `architecture`, freshly initialised (seed torch first for determinism)."""
    if architecture == "persistence":
        return Persistence(stocks)
    classes: dict[str, type[nn.Module]] = {
        "lstm": StockLSTM,
        "lstm_attention": StockLSTMWithAttention,
        "lstm_cross_stock": StockLSTMWithCrossStockAttention,
    }
    if architecture not in classes:
        raise ValueError(
            f"unknown architecture {architecture!r}: expected one of {[*classes, 'persistence']}"
        )
    return classes[architecture](stocks, features, hidden_size, num_layers, dropout)
