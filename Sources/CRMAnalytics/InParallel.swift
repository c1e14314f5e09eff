import Dispatch

/// Runs two independent computations at the same time and returns both results. For
/// serial steps (a sort, a loop over customers); a step that spreads itself over the cores
/// with `concurrentPerform` would, nested inside, be given one thread.
func inParallel<A, B>(_ first: () -> A, _ second: () -> B) -> (A, B) {
    withoutActuallyEscaping(first) { first in
        withoutActuallyEscaping(second) { second in
            // Safe: each result has its own slot, written by one iteration only; the closures
            // run inside this call, and concurrentPerform returns after both have finished.
            let a = UnsafeMutablePointer<A?>.allocate(capacity: 1), b = UnsafeMutablePointer<B?>.allocate(capacity: 1)
            a.initialize(to: nil)
            b.initialize(to: nil)
            defer {
                a.deinitialize(count: 1); a.deallocate()
                b.deinitialize(count: 1); b.deallocate()
            }
            let shared = UnsafeSendable((first, second, a, b))
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                if i == 0 { shared.value.2.pointee = shared.value.0() } else { shared.value.3.pointee = shared.value.1() }
            }
            return (a.pointee!, b.pointee!)
        }
    }
}
