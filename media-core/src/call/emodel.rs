//! ITU-T G.107 E-model: a MOS estimate from delay, loss and codec.
