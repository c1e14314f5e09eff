/// CRMAnalytics: pure computations on plain arrays (customer pyramid, RFM, BG/NBD,
/// Gamma-Gamma, Erlang C). No storage and no HTTP, so it can be tested and benchmarked
/// alone and run on an export from any system.
///
/// Map of the target (names follow ../shared/domain.md):
/// - `ValuePyramid`, `ParetoCurve` — 客户金字塔 and the 20/80 view (§2.1);
/// - `LoyaltyRules`/`LoyaltyStage`, `SpendPotentialAnalysis`, `BuyingType`, `ValueTrajectory` (§2);
/// - `RFM`, `RFMSegment`, `RFMReport`, `TransactionAggregator` — RFM and the CSV pipeline (§3);
/// - `BGNBD`, `ParetoNBD`, `GammaGamma`, `CustomerLifetimeValue`, `BGNBDSimulation` — CLV (§3);
/// - `ChurnRules` — churn risk and silent churn (§8);
/// - `ErlangC` — call-centre staffing (§7);
/// - `AnalyticsBenchmark` — `crm bench analytics`.
public enum CRMAnalytics {}
