import CRMCore
import CRMStore
import CRMTestSupport
import Foundation
import Testing

@Suite("Duplicate scan")
struct DuplicateFinderTests {
    @Test(arguments: TestBackend.available)
    func findsSharedEmailsPhonesAndSimilarColleaguesWithTheirReasons(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            func person(_ name: String, email: String? = nil, phone: String? = nil) async throws -> Customer.ID {
                try await store.customers.create(makeCustomerInput(name, email: email, phone: phone), by: users.admin).id
            }
            let a = try await person("李雷", email: "li.lei@example.com", phone: "13800000001")
            let b = try await person("李 雷", email: "LI.LEI@example.com ", phone: "+86 138 0000 0001")
            let c = try await person("韩梅梅", phone: "13800000001")
            let org = try await store.customers.create(makeCustomerInput("华为技术", kind: .organisation), by: users.admin).id
            let org2 = try await store.customers.create(makeCustomerInput("华为 技术", kind: .organisation), by: users.admin).id
            let jonathan = try await person("Jonathan Smith")
            let jonathon = try await person("Jonathon Smith")
            let zhang1 = try await person("张伟"), zhang2 = try await person("张玮")
            let outsider = try await person("Jonathan Smith")
            for p in [jonathan, jonathon, zhang1, zhang2] {
                _ = try await store.contacts.create(ContactInput(organisationID: org, personID: p, jobTitle: nil, buyingRole: nil, influence: 50),
                                                    by: users.admin)
            }
            let found = try await store.duplicates.scan(minScore: 0.4, by: users.sales)
            let byPair = Dictionary(uniqueKeysWithValues: found.map { ("\($0.first)-\($0.second)", $0) })
            #expect(byPair["\(a)-\(b)"]?.reasons == [.sameEmail, .samePhone] && byPair["\(a)-\(b)"]?.score == 1)
            #expect(byPair["\(a)-\(c)"]?.reasons == [.samePhone] && byPair["\(b)-\(c)"]?.reasons == [.samePhone])
            #expect(byPair["\(org)-\(org2)"]?.reasons == [.similarName])
            let smiths = try #require(byPair["\(jonathan)-\(jonathon)"])
            #expect(smiths.reasons == [.similarName] && smiths.nameSimilarity! < 1)
            // Two people called alike are not duplicates unless something ties them: not the
            // outsider of no organisation, and never 张伟 and 张玮.
            #expect(found.allSatisfy { ![$0.first, $0.second].contains(outsider) && ![$0.first, $0.second].contains(zhang1) })
            #expect(found.count == 5 && found.first?.first == a)
            #expect(try await store.duplicates.scan(minScore: 0.55, by: users.admin).count == 3)
        }
    }
}
