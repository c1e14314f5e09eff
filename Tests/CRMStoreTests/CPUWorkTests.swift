import CRMCore
@testable import CRMStore
import CRMTestSupport
import Foundation
import Synchronization
import Testing

/// Long computations run on CPU-work threads, not on the caller's executor: in the server
/// that executor is NIO's event loops, where seconds of parsing would stall connections.
@Suite("CPU work off the caller's threads")
struct CPUWorkTests {
    @Test func theBodyAndItsChildTasksRunOnCPUWorkThreads() async throws {
        #expect(!CPUWork.isCurrent)
        let (body, child, grouped) = try await CPUWork.run {
            async let child = CPUWork.isCurrent
            let grouped = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { CPUWork.isCurrent } }
                return await group.reduce(true) { $0 && $1 }
            }
            return (CPUWork.isCurrent, await child, grouped)
        }
        #expect(body && child && grouped)
        #expect(!CPUWork.isCurrent)
    }

    struct State: ImportState { var report: ImportReport<NoExtraCounts> }

    @Test(arguments: [CustomerImportOptions.Mode.allOrNothing, .validRows])
    func anImportParsesAndWritesOnCPUWorkThreads(_ mode: CustomerImportOptions.Mode) async throws {
        try await withTestStore(.sqlite) { store, _ in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("cpu-work-\(UUID().uuidString).csv").path
            FileManager.default.createFile(atPath: path, contents: Data("n\n1\n2\n3\n4\n5\n".utf8))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let source = try CSVRowSource(path: path)
            let prepared = Mutex<[Bool]>([]), processed = Mutex<[Bool]>([])
            let report = try await ImportRun.run(
                store.database, source, mode: mode, dryRun: false,
                state: State(report: ImportReport(source, mode: mode, dryRun: false, ignoredColumns: [])),
                next: { try source.next(2) },
                prepare: { batch in prepared.withLock { $0.append(CPUWork.isCurrent) }; return batch },
                progress: nil,
                process: { _, batch, state, _ in
                    processed.withLock { $0.append(CPUWork.isCurrent) }
                    state.report.rows += batch.count
                })
            #expect(report.rows == 5)
            #expect(prepared.withLock { $0 } == [true, true, true])
            #expect(processed.withLock { $0 } == [true, true, true])
        }
    }
}
