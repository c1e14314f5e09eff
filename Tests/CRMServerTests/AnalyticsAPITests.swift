import CRMCore
import CRMServer
import CRMStore
import CRMTestSupport
import Foundation
import Testing

@Suite("Analytics through the API")
struct AnalyticsAPITests {
    @Test(arguments: TestBackend.available)
    func refreshDashboardCustomerFieldsAndFilters(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            #expect(try await api.get("/analytics/dashboard").status == 404, "no run yet")

            // Twelve buyers whose k-th buys k times, so the tiers are known in advance.
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            var ids: [Int64] = []
            for k in 1...12 {
                let c = try await store.customers.create(makeCustomerInput("客户\(k)"), by: users.admin)
                ids.append(c.id.rawValue)
                for m in 0..<k {
                    _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: String(format: "2026-%02d-%02d", 1 + m % 10, 1 + m)),
                                                      by: users.admin)
                }
            }

            for role in ["sales", "marketing", "service", "readonly"] {
                let denied = try await api.post("/analytics/refresh?asOf=2026-11-20", "", as: role)
                #expect(denied.status == 403 && denied.isProblem, "\(role) may not refresh")
            }
            let badDay = try await api.post("/analytics/refresh?asOf=2026-13-01", "", as: "manager")
            #expect(badDay.status == 400 && badDay.pointers == ["/query/asOf"])
            let early = try await api.post("/analytics/refresh?asOf=2026-05-01", "", as: "manager")
            #expect(early.status == 400 && early.pointers == ["/query/asOf"], "lifetime summaries cannot be seen from before the last purchase")
            let run = try await api.post("/analytics/refresh?asOf=2026-11-20", "", as: "manager")
            #expect(run.status == 200)
            #expect(run.object["customers"] as? Int == 12 && run.object["asOf"] as? String == "2026-11-20")

            let dashboard = try await api.get("/analytics/dashboard", as: "sales")
            let tiers = (dashboard.object["dashboard"] as? [String: Any])?["tiers"] as? [[String: Any]] ?? []
            // ⌈12·1%⌉ = 1 platinum, ⌈12·5%⌉ − 1 = 0 gold, ⌈12·20%⌉ − 1 = 2 iron, 9 lead.
            #expect(tiers.map { $0["tier"] as? String } == ["platinum", "gold", "iron", "lead"])
            #expect(tiers.map { $0["customers"] as? Int } == [1, 0, 2, 9])

            let top = try await api.get("/customers/\(ids[11])")
            let analytics = top.object["analytics"] as? [String: Any]
            #expect(analytics?["tier"] as? String == "platinum" && analytics?["currency"] as? String == "CNY")
            #expect(analytics?["loyaltyStage"] as? String == "loyal" || analytics?["loyaltyStage"] as? String == "repeat")
            #expect((analytics?["recencyScore"] as? Int).map { (1...5).contains($0) } == true)

            let platinum = try await api.get("/customers?tier=platinum")
            #expect(platinum.items.map { ($0["id"] as? NSNumber)?.int64Value } == [ids[11]])
            #expect(platinum.items.first?["analytics"] != nil)
            let iron = try await api.get("/customers?tier=iron").items.compactMap { ($0["id"] as? NSNumber)?.int64Value }
            #expect(iron == [ids[9], ids[10]])
            #expect(try await api.get("/customers?tier=diamond").status == 400)

            // An order booked ahead does not stop the scheduled (today's) refresh.
            let ahead = CalendarDate(utc: Date()).adding(days: 3).description
            _ = try await store.orders.create(makeOrderInput(customer: Customer.ID(ids[0]), product: p.id, date: ahead), by: users.admin)
            #expect(try await api.post("/analytics/refresh", "", as: "admin").status == 200)

            let view = try await api.get("/customers/\(ids[11])/360")
            #expect((view.object["customer"] as? [String: Any])?["analytics"] != nil && view.object["analyticsHistory"] as? [Any] != nil)
        }
    }

    @Test(arguments: TestBackend.available)
    func settingsAreAdminsAndBadValuesAreNamed(backend: TestBackend) async throws {
        try await withAPI(backend) { api, _, _ in
            let current = try await api.get("/analytics/settings", as: "sales")
            #expect(current.status == 200 && current.object["platinumShare"] as? Double == 0.01)
            var body = current.object
            body["goldShare"] = 0.1
            let text = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            #expect(try await api.call(.put, "/analytics/settings", as: "manager", json: text).status == 403)
            let saved = try await api.call(.put, "/analytics/settings", as: "admin", json: text)
            #expect(saved.status == 200 && saved.object["goldShare"] as? Double == 0.1)
            #expect(try await api.get("/analytics/settings").object["goldShare"] as? Double == 0.1)

            body["windowMonths"] = 0
            let bad = try await api.call(.put, "/analytics/settings", as: "admin",
                                         json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
            #expect(bad.status == 400 && bad.pointers == ["/windowMonths"])
            body.removeValue(forKey: "loyalty")
            let missing = try await api.call(.put, "/analytics/settings", as: "admin",
                                             json: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
            #expect(missing.status == 400 && missing.pointers == ["/loyalty"])
        }
    }

    @Test(arguments: TestBackend.available)
    func staffingByErlangC(backend: TestBackend) async throws {
        try await withAPI(backend) { api, _, _ in
            let s = try await api.get("/analytics/staffing?callsPerHour=400&handleSeconds=180&target=0.8&within=20&shrinkage=0.3", as: "service")
            #expect(s.status == 200 && s.object["agents"] as? Int == 24 && s.object["scheduledAgents"] as? Int == 35)
            #expect(try await api.get("/analytics/staffing?callsPerHour=400&handleSeconds=0").pointers == ["/query/handleSeconds"])
            #expect(try await api.get("/analytics/staffing?callsPerHour=400&handleSeconds=180&target=1.5").pointers == ["/query/target"])
            #expect(try await api.get("/analytics/staffing?callsPerHour=400&handleSeconds=180&maxOccupancy=0.01").pointers == ["/query/maxOccupancy"])
            #expect(try await api.get("/analytics/staffing?callsPerHour=1000000&handleSeconds=86400").pointers == ["/query/callsPerHour"],
                    "absurd traffic is refused instead of tying up a thread")

            let plan = try await api.post("/analytics/staffing", #"{"intervals":[{"start":"09:00","calls":200,"handleSeconds":180},{"start":"09:30","calls":50,"handleSeconds":180}]}"#)
            let intervals = plan.object["intervals"] as? [[String: Any]] ?? []
            #expect(plan.status == 200 && intervals.count == 2)
            #expect((intervals.first?["staffing"] as? [String: Any])?["agents"] as? Int == 24, "200 calls in 30 minutes is 400 an hour")
            #expect(plan.object["peakScheduledAgents"] as? Int == 24)
            let bad = try await api.post("/analytics/staffing", #"{"intervals":[{"start":"09:00","calls":-5,"handleSeconds":180}]}"#)
            #expect(bad.status == 400 && bad.pointers == ["/intervals/0/calls"])
        }
    }
}
