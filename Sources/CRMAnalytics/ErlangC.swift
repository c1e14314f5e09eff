import RealModule

/// Call-centre staffing by the Erlang C queue (M/M/N, callers wait, nobody abandons):
/// traffic A = arrival rate × mean handle time (erlangs), N agents.
public enum ErlangC {
    /// Erlang B blocking probability by the stable recursion B(0) = 1,
    /// B(k) = A·B(k−1) / (k + A·B(k−1)) (no factorials, no overflow).
    public static func erlangB(agents: Int, trafficErlangs a: Double) -> Double {
        var b = 1.0
        if agents > 0 { for k in 1...agents { b = a * b / (Double(k) + a * b) } }
        return b
    }

    /// Erlang C probability that a call waits: C = N·B / (N − A·(1 − B)); 1 when N ≤ A
    /// (the queue grows without bound).
    public static func probabilityOfWaiting(agents n: Int, trafficErlangs a: Double) -> Double {
        guard Double(n) > a else { return 1 }
        let b = erlangB(agents: n, trafficErlangs: a)
        return Double(n) * b / (Double(n) - a * (1 - b))
    }

    /// A service-level target: `fraction` of calls answered within `seconds` (e.g. 0.8 in 20 s).
    public struct ServiceLevelTarget: Sendable, Hashable {
        public var fraction: Double
        public var seconds: Double
        public init(fraction: Double = 0.8, seconds: Double = 20) {
            self.fraction = fraction
            self.seconds = seconds
        }
    }

    /// Staffing settings.
    public struct Settings: Sendable, Hashable {
        public var target: ServiceLevelTarget
        /// Share of paid time agents are not on the phones (breaks, training, absence), 0 ≤ s < 1.
        public var shrinkage: Double
        /// Highest acceptable occupancy A/N (1 = no cap).
        public var maxOccupancy: Double
        public init(target: ServiceLevelTarget = ServiceLevelTarget(), shrinkage: Double = 0, maxOccupancy: Double = 1) {
            self.target = target
            self.shrinkage = shrinkage
            self.maxOccupancy = maxOccupancy
        }
    }

    /// Queue figures for one staffing level.
    public struct Performance: Sendable, Hashable {
        public var agents: Int
        public var trafficErlangs: Double
        public var probabilityOfWaiting: Double
        /// P(wait ≤ t) = 1 − C·e^(−(N−A)·t/AHT).
        public var serviceLevel: Double
        /// Average speed of answer, seconds: C·AHT/(N − A).
        public var averageSpeedOfAnswer: Double
        /// A/N.
        public var occupancy: Double
    }

    /// Performance of `agents` agents for `callsPerHour` calls of `handleSeconds` mean handle time.
    public static func performance(agents: Int, callsPerHour: Double, handleSeconds: Double, answerWithinSeconds t: Double) -> Performance {
        let a = callsPerHour * handleSeconds / 3600
        if a == 0 {
            return Performance(agents: agents, trafficErlangs: 0, probabilityOfWaiting: 0, serviceLevel: 1, averageSpeedOfAnswer: 0, occupancy: 0)
        }
        let n = Double(agents)
        guard n > a else {
            return Performance(agents: agents, trafficErlangs: a, probabilityOfWaiting: 1, serviceLevel: 0, averageSpeedOfAnswer: .infinity, occupancy: agents > 0 ? 1 : 0)
        }
        let c = probabilityOfWaiting(agents: agents, trafficErlangs: a)
        return Performance(agents: agents, trafficErlangs: a, probabilityOfWaiting: c,
                           serviceLevel: 1 - c * Double.exp(-(n - a) * t / handleSeconds),
                           averageSpeedOfAnswer: c * handleSeconds / (n - a), occupancy: a / n)
    }

    /// Staffing for one interval.
    public struct Staffing: Sendable, Hashable {
        /// Agents needed on the phones (the fewest meeting the target and the occupancy cap).
        public var agents: Int
        /// Agents to schedule: ⌈agents / (1 − shrinkage)⌉ (with a 1e-9 tolerance so 21/0.7 is 30).
        public var scheduledAgents: Int
        public var performance: Performance
    }

    /// The fewest agents N > A with service level ≥ target and occupancy ≤ cap; zero calls need
    /// zero agents. The Erlang B recursion is carried forward as N grows.
    public static func staff(callsPerHour: Double, handleSeconds: Double, settings: Settings = Settings()) -> Staffing {
        let a = callsPerHour * handleSeconds / 3600
        guard a > 0 else {
            return Staffing(agents: 0, scheduledAgents: 0, performance: performance(agents: 0, callsPerHour: 0, handleSeconds: handleSeconds, answerWithinSeconds: settings.target.seconds))
        }
        var b = 1.0
        var n = 0
        while true {
            n += 1
            b = a * b / (Double(n) + a * b)
            let nd = Double(n)
            guard nd > a else { continue }
            let c = nd * b / (nd - a * (1 - b))
            let sl = 1 - c * Double.exp(-(nd - a) * settings.target.seconds / handleSeconds)
            if sl >= settings.target.fraction && a / nd <= settings.maxOccupancy { break }
        }
        let scheduled = Int((Double(n) / (1 - settings.shrinkage) - 1e-9).rounded(.up))
        return Staffing(agents: n, scheduledAgents: scheduled,
                        performance: performance(agents: n, callsPerHour: callsPerHour, handleSeconds: handleSeconds, answerWithinSeconds: settings.target.seconds))
    }

    /// One interval of a day's forecast: calls expected in an interval of `intervalSeconds`.
    public struct IntervalForecast: Sendable, Hashable {
        public var start: String
        public var calls: Double
        public var intervalSeconds: Double
        public var handleSeconds: Double
        public init(start: String, calls: Double, intervalSeconds: Double = 1800, handleSeconds: Double) {
            self.start = start
            self.calls = calls
            self.intervalSeconds = intervalSeconds
            self.handleSeconds = handleSeconds
        }
    }

    /// Staffing for each interval of a day (the arrival rate is calls / interval length).
    public static func staffDay(_ forecast: [IntervalForecast], settings: Settings = Settings()) -> [IntervalStaffing] {
        forecast.map { IntervalStaffing(interval: $0, staffing: staff(callsPerHour: $0.calls * 3600 / $0.intervalSeconds, handleSeconds: $0.handleSeconds, settings: settings)) }
    }

    /// An interval with its staffing.
    public struct IntervalStaffing: Sendable, Hashable {
        public var interval: IntervalForecast
        public var staffing: Staffing
    }
}
