"""Forecasting models behind one interface: the networks (LSTM, attention, cross-stock
attention), the tabular families' forecasters (ridge, LightGBM), persistence, and the maths they
share: calibration, intervals, metrics, paired tests."""
