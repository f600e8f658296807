import Logging
import ServiceLifecycle

/// Runs the ``BackfillQueue`` with `BACKFILL_CONCURRENCY` workers inside `run()` (a task group, no unstructured tasks).
/// Graceful shutdown closes the queue and cancels the running backfills (a fetch waiting on the broker's pacing can take
/// many seconds): their jobs, and those of the requests still waiting, stay open in `backfill_jobs` and are resumed by
/// the next start or another instance (see ``BackfillJobLeases``). What a cancelled backfill already wrote stays: the
/// writes are idempotent upserts.
struct BackfillService: Service {
    let queue: BackfillQueue
    let backfiller: InstrumentBackfiller
    let concurrency: Int
    let logger: Logger

    func run() async throws {
        logger.info("Backfill workers started", metadata: [LogKey.concurrency: "\(concurrency)"])
        await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    for _ in 0..<max(1, concurrency) {
                        group.addTask {
                            while let request = await queue.next() {
                                let (outcome, fetched) = await backfiller.run(request)
                                let attached = queue.complete(request, outcome: outcome, fetched: fetched)
                                await finishAttached(attached, outcome: outcome)
                            }
                        }
                    }
                }
            } onCancel: {
                queue.close()
            }
        }
        logger.info("Backfill workers stopped")
    }

    /// Requests that arrived while their instrument was being backfilled share that run's outcome.
    private func finishAttached(_ attached: [BackfillRequest], outcome: BackfillOutcome) async {
        let jobs = attached.flatMap(\.jobIDs)
        guard !jobs.isEmpty else { return }
        switch outcome {
        case .success(let bars): try? await backfiller.store.finishJobs(jobs, status: "done", barsWritten: bars, error: nil)
        case .nothingToDo: try? await backfiller.store.finishJobs(jobs, status: "done", barsWritten: 0, error: nil)
        case .failed(let message): try? await backfiller.store.finishJobs(jobs, status: "failed", barsWritten: 0, error: message)
        case .cancelled: break
        }
    }
}
