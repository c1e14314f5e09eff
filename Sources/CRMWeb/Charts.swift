import CRMAnalytics
import Foundation
import Plot

/// Charts drawn on the server as SVG: no script, readable numbers, a title and axis labels
/// in the page's language. Text goes through Plot, so names are escaped like everywhere else.
public enum Charts {
    typealias SVGNode = Node<HTML.BodyContext>

    static func svg(width: Int, height: Int, title: String, id: String, _ nodes: [SVGNode]) -> SVGNode {
        .element(named: "svg", nodes: [
            .attribute(named: "xmlns", value: "http://www.w3.org/2000/svg"),
            .attribute(named: "viewBox", value: "0 0 \(width) \(height)"),
            .attribute(named: "role", value: "img"),
            .attribute(named: "aria-labelledby", value: id + "-title"),
            .attribute(named: "id", value: id),
            .element(named: "title", nodes: [.attribute(named: "id", value: id + "-title"), .text(title)]),
        ] + nodes)
    }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", weight: String? = nil, extra: [SVGNode] = []) -> SVGNode {
        .element(named: "text", nodes: [
            .attribute(named: "x", value: f(x)), .attribute(named: "y", value: f(y)),
            .attribute(named: "text-anchor", value: anchor),
            .unwrap(weight) { .attribute(named: "font-weight", value: $0) },
        ] + extra + [.text(content)])
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#d9dde3", dash: Bool = false) -> SVGNode {
        .element(named: "line", nodes: [
            .attribute(named: "x1", value: f(x1)), .attribute(named: "y1", value: f(y1)),
            .attribute(named: "x2", value: f(x2)), .attribute(named: "y2", value: f(y2)),
            .attribute(named: "stroke", value: stroke),
            .if(dash, .attribute(named: "stroke-dasharray", value: "4 3")),
        ])
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, extra: [SVGNode] = []) -> SVGNode {
        .element(named: "rect", nodes: [
            .attribute(named: "x", value: f(x)), .attribute(named: "y", value: f(y)),
            .attribute(named: "width", value: f(w)), .attribute(named: "height", value: f(h)),
            .attribute(named: "fill", value: fill),
        ] + extra)
    }

    /// Coordinates with at most one decimal: short markup, stable snapshots.
    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    // MARK: - the customer pyramid (客户金字塔)

    static let tierColours: [String: String] = ["platinum": "#8e9aaf", "gold": "#e0b43c", "iron": "#a3abb7", "lead": "#5f6b7a"]

    /// Four bands, platinum at the top; beside each, its tier, customer count and its
    /// shares of profit and revenue.
    public static func pyramid(_ tiers: [CustomerBaseDashboard.TierFigures], _ s: Strings) -> Node<HTML.BodyContext> {
        let width = 600.0, bandHeight = 60.0, gap = 4.0, top = 6.0, cx = 165.0, labelX = 345.0
        let height = top + Double(tiers.count) * (bandHeight + gap) + 2
        let step = 160.0 / Double(max(tiers.count, 1))
        var nodes: [SVGNode] = []
        for (i, t) in tiers.enumerated() {
            let y0 = top + Double(i) * (bandHeight + gap), y1 = y0 + bandHeight
            // The band's half-width grows linearly down the pyramid.
            let halfTop = 4 + Double(i) * step, halfBottom = halfTop + step
            let points = [(cx - halfTop, y0), (cx + halfTop, y0), (cx + halfBottom, y1), (cx - halfBottom, y1)]
                .map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
            let tierName = CustomerTier(rawValue: t.tier).map { s.term($0) } ?? t.tier
            nodes.append(.element(named: "g", nodes: [
                .attribute(named: "class", value: "tier"),
                .attribute(named: "data-tier", value: t.tier),
                .attribute(named: "data-customers", value: String(t.customers)),
                .element(named: "polygon", nodes: [.attribute(named: "points", value: points),
                                                   .attribute(named: "fill", value: tierColours[t.tier] ?? "#999")]),
                line(cx + halfBottom - step / 2 + 6, y0 + bandHeight / 2, labelX - 8, y0 + bandHeight / 2, stroke: "#b8bec8"),
                text(labelX, y0 + 26, tierName + " · " + s.count(t.customers), weight: "600"),
                text(labelX, y0 + 47, s[.profitShort] + " " + s.percent(t.profitShare) + " · " + s[.revenueShort] + " " + s.percent(t.revenueShare)),
            ]))
        }
        return .div(.class("chart"), svg(width: Int(width), height: Int(height), title: s[.customerPyramid], id: "pyramid-chart", nodes))
    }

    // MARK: - Pareto curve (20/80 法则)

    /// Cumulative share of revenue and of profit against the share of customers, best first.
    public static func pareto(_ points: [CustomerBaseDashboard.ParetoPoint], _ s: Strings) -> Node<HTML.BodyContext> {
        let w = 600.0, h = 320.0, left = 56.0, right = 16.0, top = 16.0, bottom = 52.0
        let pw = w - left - right, ph = h - top - bottom
        func x(_ percent: Double) -> Double { left + pw * percent / 100 }
        func y(_ share: Double) -> Double { top + ph * (1 - min(max(share, 0), 1.2) / 1.2) }
        var nodes: [SVGNode] = []
        for tick in stride(from: 0, through: 100, by: 20) {
            nodes.append(line(x(Double(tick)), top, x(Double(tick)), top + ph))
            nodes.append(text(x(Double(tick)), top + ph + 16, "\(tick)%", anchor: "middle"))
        }
        for tick in stride(from: 0.0, through: 1.2, by: 0.2) {
            nodes.append(line(left, y(tick), left + pw, y(tick)))
            nodes.append(text(left - 6, y(tick) + 4, "\(Int((tick * 100).rounded()))%", anchor: "end"))
        }
        nodes.append(line(x(20), top, x(20), top + ph, stroke: "#b42318", dash: true))
        nodes.append(line(left, y(0.8), left + pw, y(0.8), stroke: "#b42318", dash: true))
        let series: [(String, String, KeyPath<CustomerBaseDashboard.ParetoPoint, Double?>)] = [
            (s[.revenue], "#1f5fa8", \.revenueShare), (s[.profit], "#c79a1e", \.profitShare),
        ]
        for (i, serie) in series.enumerated() {
            let path = ([(0.0, 0.0)] + points.compactMap { p in p[keyPath: serie.2].map { (Double(p.percent), $0) } })
                .map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ")
            nodes.append(.element(named: "polyline", nodes: [
                .attribute(named: "points", value: path), .attribute(named: "fill", value: "none"),
                .attribute(named: "stroke", value: serie.1), .attribute(named: "stroke-width", value: "2.5"),
            ]))
            nodes.append(rect(left + 10 + Double(i) * 110, top + 6, 12, 12, fill: serie.1))
            nodes.append(text(left + 26 + Double(i) * 110, top + 16, serie.0))
        }
        nodes.append(text(left + pw / 2, h - 8, s[.paretoXAxis], anchor: "middle"))
        nodes.append(text(14, top + ph / 2, s[.paretoYAxis], anchor: "middle",
                          extra: [.attribute(named: "transform", value: "rotate(-90 14 \(f(top + ph / 2)))")]))
        return .div(.class("chart"), svg(width: Int(w), height: Int(h), title: s[.paretoCurve], id: "pareto-chart", nodes))
    }

    // MARK: - RFM grid

    /// Customers by recency score (rows, 5 = most recent at the top) and frequency score
    /// (columns, 1 to 5); darker cells hold more customers.
    public static func rfmGrid(_ grid: [[Int]], _ s: Strings) -> Node<HTML.BodyContext> {
        let cell = 64.0, left = 70.0, top = 12.0
        let w = left + 5 * cell + 12, h = top + 5 * cell + 48
        let most = max(grid.flatMap { $0 }.max() ?? 0, 1)
        var nodes: [SVGNode] = []
        for (r, row) in grid.prefix(5).enumerated() {
            nodes.append(text(left - 8, top + Double(r) * cell + cell / 2 + 4, "R\(5 - r)", anchor: "end"))
            for (c, count) in row.prefix(5).enumerated() {
                let share = Double(count) / Double(most)
                let x0 = left + Double(c) * cell, y0 = top + Double(r) * cell
                nodes.append(rect(x0 + 1, y0 + 1, cell - 2, cell - 2, fill: "#1f5fa8",
                                  extra: [.attribute(named: "fill-opacity", value: String(format: "%.2f", 0.08 + 0.85 * share))]))
                nodes.append(text(x0 + cell / 2, y0 + cell / 2 + 4, s.count(count), anchor: "middle",
                                  extra: share > 0.55 ? [.attribute(named: "class", value: "on-dark")] : []))
            }
        }
        for c in 0..<5 { nodes.append(text(left + Double(c) * cell + cell / 2, top + 5 * cell + 16, "F\(c + 1)", anchor: "middle")) }
        nodes.append(text(left + 2.5 * cell, h - 6, s[.rfmXAxis], anchor: "middle"))
        nodes.append(text(14, top + 2.5 * cell, s[.rfmYAxis], anchor: "middle",
                          extra: [.attribute(named: "transform", value: "rotate(-90 14 \(f(top + 2.5 * cell)))")]))
        return .div(.class("chart"), svg(width: Int(w), height: Int(h), title: s[.rfmGridTitle], id: "rfm-chart", nodes))
    }

    // MARK: - CLV distribution

    /// CLV by decile of customers: each bar is the upper end of its tenth of customers.
    public static func clvDistribution(_ bins: [CustomerBaseDashboard.Bin], currency: String, _ s: Strings) -> Node<HTML.BodyContext> {
        let w = 600.0, h = 300.0, left = 90.0, right = 12.0, top = 14.0, bottom = 50.0
        let pw = w - left - right, ph = h - top - bottom
        let highest = max(bins.map(\.toMinor).max() ?? 1, 1), lowest = min(bins.map(\.fromMinor).min() ?? 0, 0)
        let span = Double(highest - lowest)
        func y(_ v: Int64) -> Double { top + ph * (1 - Double(v - lowest) / span) }
        var nodes: [SVGNode] = []
        for i in 0...4 {
            let v = lowest + Int64(Double(highest - lowest) * Double(i) / 4)
            nodes.append(line(left, y(v), left + pw, y(v)))
            nodes.append(text(left - 6, y(v) + 4, s.moneyRounded(v, currency: currency), anchor: "end"))
        }
        let bw = pw / Double(max(bins.count, 1))
        for (i, bin) in bins.enumerated() {
            let y0 = y(max(bin.toMinor, 0)), y1 = y(min(bin.toMinor, 0))
            nodes.append(rect(left + Double(i) * bw + 3, y0, bw - 6, max(y1 - y0, 1), fill: "#1f5fa8", extra: [
                .element(named: "title", text: "\(i + 1): \(s.moneyRounded(bin.fromMinor, currency: currency)) – \(s.moneyRounded(bin.toMinor, currency: currency)) · \(s.count(bin.customers))"),
            ]))
            nodes.append(text(left + Double(i) * bw + bw / 2, top + ph + 16, "\((i + 1) * 10)%", anchor: "middle"))
        }
        nodes.append(text(left + pw / 2, h - 8, s[.clvXAxis], anchor: "middle"))
        return .div(.class("chart"), svg(width: Int(w), height: Int(h), title: s[.clvDistribution], id: "clv-chart", nodes))
    }
}
