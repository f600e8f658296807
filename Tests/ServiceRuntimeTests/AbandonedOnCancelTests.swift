import Foundation
import ServiceRuntime
import Synchronization
import Testing

@Suite("abandonedOnCancel")
struct AbandonedOnCancelTests {
    @Test("returns what the work returns, and throws what it throws")
    func passesResultsThrough() async throws {
        #expect(try await abandonedOnCancel { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await abandonedOnCancel { () throws -> Int in throw Refused() } }
    }

    @Test("a cancelled caller gets CancellationError at once while work that ignores cancellation is still running")
    func cancelledCallerDoesNotWait() async throws {
        let finished = Atomic<Bool>(false)
        let started = Atomic<Bool>(false)
        let caller = Task {
            try await abandonedOnCancel {
                started.store(true, ordering: .releasing)
                // Uninterruptible work (a sleep that ignores cancellation), as building a large index is.
                for _ in 0..<100 { usleep(50_000) }
                finished.store(true, ordering: .releasing)
                return 1
            }
        }
        while !started.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(10)) }
        caller.cancel()
        let outcome = await caller.result
        let workFinished = finished.load(ordering: .acquiring)
        #expect(!workFinished, "the caller waited for the work to finish")
        #expect(throws: CancellationError.self) { try outcome.get() }
    }

    @Test("a caller already cancelled does not wait either")
    func alreadyCancelled() async throws {
        let caller = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await abandonedOnCancel { () -> Int in
                for _ in 0..<100 { usleep(50_000) }
                return 1
            }
        }
        let outcome = await caller.result
        #expect(throws: CancellationError.self) { try outcome.get() }
    }
}
