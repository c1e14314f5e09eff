import CRMCore
import CRMStore
import CRMWeb
import Foundation
import Hummingbird

/// Duplicate review, the field-by-field merge, and undo.
extension WebApp {
    /// The page lists the most likely pairs; the full list is `crm duplicates` or the API.
    static let duplicatesShown = 200

    func registerDuplicates(on router: Router<BasicRequestContext>) {
        router.get("/duplicates") { request, _ in try await signedIn(request) { visit, actor in try await duplicates(request, visit, actor) } }
        router.get("/duplicates/merge") { request, _ in
            try await signedIn(request) { visit, actor in
                let q = Self.query(request)
                guard let a = q["survivor"].flatMap({ Int64($0) }), let b = q["merged"].flatMap({ Int64($0) }), a != b else {
                    throw Refusal.badRequest("choose two different customers to merge")
                }
                let survivor = try await store.customers.get(Customer.ID(a)), merged = try await store.customers.get(Customer.ID(b))
                try AccessPolicy.require(actor, .editCustomer(ownerID: survivor.ownerID))
                try AccessPolicy.require(actor, .editCustomer(ownerID: merged.ownerID))
                return html(MergePage(survivor: survivor, merged: merged).render(visit.page), visit)
            }
        }
        router.post("/duplicates/merge") { request, _ in try await signedIn(request) { visit, actor in try await merge(request, visit, actor) } }
        router.post("/merges/:id/undo") { request, context in
            try await signedIn(request) { visit, actor in
                _ = try await form(request, visit)
                let (survivor, _) = try await store.merges.undo(CustomerMerge.ID(try context.parameters.require("id", as: Int64.self)), by: actor)
                return redirect("/customers/\(survivor.id)?done=undone")
            }
        }
    }

    func duplicates(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let candidates = try await store.duplicates.scan(by: actor)
        let shown = Array(candidates.prefix(Self.duplicatesShown))
        let names = try await store.duplicates.names(shown.flatMap { [$0.first, $0.second] })
        let pairs = shown.map { c in
            DuplicatesPage.Pair(first: (c.first.rawValue, names[c.first] ?? ""), second: (c.second.rawValue, names[c.second] ?? ""),
                                reasons: c.reasons, score: c.score)
        }
        let notice = Self.query(request)["done"] == "merged" ? visit.page.strings[.merged] : nil
        return html(DuplicatesPage(pairs: pairs, total: candidates.count, notice: notice).render(visit.page), visit)
    }

    func merge(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let form = try await self.form(request, visit)
        guard let a = form.text("survivor").flatMap({ Int64($0) }), let b = form.text("merged").flatMap({ Int64($0) }) else {
            throw Refusal.badRequest("the form names no customers")
        }
        var choices: [String: CustomerMerge.Side] = [:]
        for (key, values) in form.fields where key.hasPrefix("field.") {
            if let side = values.first.flatMap(CustomerMerge.Side.init(rawValue:)) { choices[String(key.dropFirst(6))] = side }
        }
        do {
            let (_, survivor) = try await store.merges.merge(survivor: Customer.ID(a), merged: Customer.ID(b), choices: choices, by: actor)
            return redirect("/customers/\(survivor.id)?done=merged")
        } catch let error as DomainError {
            guard case .invalid = error else { throw error }
            let survivor = try await store.customers.get(Customer.ID(a)), merged = try await store.customers.get(Customer.ID(b))
            let page = MergePage(survivor: survivor, merged: merged, problem: WebMessages.describe(error, visit.page.strings))
            return html(page.render(visit.page), status: .badRequest, visit)
        }
    }
}
