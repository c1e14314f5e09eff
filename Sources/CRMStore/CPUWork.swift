import Dispatch

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
