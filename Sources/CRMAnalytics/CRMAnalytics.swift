/// CRMAnalytics: pure computations on plain arrays (customer pyramid, RFM, BG/NBD,
/// Gamma-Gamma, Erlang C). No storage and no HTTP, so it can be tested and benchmarked
/// alone and run on an export from any system. (Being built under issue 3.)
public enum CRMAnalytics {}
