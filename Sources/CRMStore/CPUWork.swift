import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Threads for long computations (an import's parsing, the duplicate scan), apart from
/// whatever executor the caller's tasks use. In the server that executor is NIO's event
/// loops (see `ServerExecutor` in CRMServer), where a task that computes for a second
/// stalls every connection on its loop.
public enum CPUWork {
    /// Runs `body` and its child tasks on the CPU-work threads. An unstructured `Task {}`
    /// made inside does not inherit that: create it with `executorPreference: CPUWork.executor`.
    public static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(executor, operation: body)
    }

    /// Whether the calling code runs on a CPU-work thread.
    public static var isCurrent: Bool { DispatchQueue.getSpecific(key: key) != nil }

    public static let executor = Executor()
    private static let key = DispatchSpecificKey<Bool>()

    /// Jobs on a concurrent Dispatch queue: Dispatch's own pool, which neither Swift's
    /// default executor nor NIO's event loops share.
    public final class Executor: TaskExecutor {
        let queue: DispatchQueue

        init() {
            queue = DispatchQueue(label: "crm.cpu-work", attributes: .concurrent)
            queue.setSpecific(key: CPUWork.key, value: true)
        }

        public func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }
}

/// Threads that give way to every other thread of the process: an import prepares its next
/// batch on them while the writer stores the last one. On two cores the preparation's
/// threads took turns with the writer, whose statements are the import's critical path,
/// and the writer waited for a core a third of the time.
final class YieldingThreads: Sendable {
    static let shared = YieldingThreads(count: ProcessInfo.processInfo.activeProcessorCount)

    /// One iteration of a `concurrentPerform`.
    // @unchecked Sendable: `body` is set before the job is queued and cleared by the one
    // thread that takes it (the queue's mutex orders the two).
    private final class Job: @unchecked Sendable {
        var body: (() -> Void)?
        let done: DispatchGroup
        init(_ body: @escaping () -> Void, done: DispatchGroup) { self.body = body; self.done = done }
    }

    private let jobs = Mutex<[Job]>([])
    private let waiting = DispatchSemaphore(value: 0)

    private init(count: Int) {
        for n in 0..<max(1, count) {
            let thread = Thread { [self] in
                // Linux's nice value belongs to the thread (`who` 0 is the calling thread). A
                // process may always lower its own priority; if it may not, the threads are
                // merely ordinary ones.
                #if canImport(Glibc)
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
                #endif
                while true {
                    waiting.wait()
                    guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                    job.body?()
                    // Released before the caller is told: its closure must not outlive the call.
                    job.body = nil
                    job.done.leave()
                }
            }
            thread.name = "crm-yielding-\(n)"
            thread.start()
        }
    }

    /// `body(0)` … `body(iterations - 1)` on these threads, returning when all have run.
    func concurrentPerform(iterations: Int, execute body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let done = DispatchGroup()
            for n in 0..<iterations {
                done.enter()
                let job = Job({ body(n) }, done: done)
                jobs.withLock { $0.append(job) }
                waiting.signal()
            }
            done.wait()
        }
    }
}
