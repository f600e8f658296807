import Foundation
import Logging
import ServiceLifecycle

/// Who owns an open backfill job, so that no job stays open when its process is gone and none runs twice.
///
/// Each process takes a lease (`backfill_instances`, one row per process start) before it consumes any event, and the
/// jobs it creates name that lease as their `owner`. The service renews the lease every ``heartbeatInterval`` and, as
/// often, adopts the open jobs whose owner holds no live lease: a process that crashed (its lease expires after
/// ``leaseTTL``) or stopped cleanly (it released its lease). Adopted jobs are queued again, so a job left by a
/// `kill -9` is resumed within `leaseTTL + heartbeatInterval`, and one left by a clean stop within `heartbeatInterval`
/// (at once by the next start). At graceful shutdown, after the backfill workers have stopped, the lease is released:
/// this instance's unfinished jobs go back to `pending` for whoever comes next.
struct BackfillJobLeases: Service {
    /// This process's lease id: the consumer name plus a per-start suffix, so a restart under the same name never
    /// mistakes the dead process's jobs for its own.
    let instance: String
    let store: BackfillStore
    let queue: BackfillQueue
    let logger: Logger
    var heartbeatInterval: Duration = .seconds(5)
    var leaseTTL: Duration = .seconds(15)
    var adoptionBatch = 1000

    /// A lease id for this process start.
    /// - Parameter consumerName: `EVENTS_CONSUMER_NAME`.
    static func instanceID(consumerName: String) -> String {
        "\(consumerName)#\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Takes the lease; call before any job is created under it.
    func register() async throws {
        try await store.heartbeat(instance: instance)
    }

    func run() async throws {
        logger.info("Backfill job lease taken", metadata: [LogKey.lease: "\(instance)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await renewAndAdopt()
                try? await Task.sleep(for: heartbeatInterval)
            }
        }
        do {
            try await store.release(instance: instance)
            logger.info("Backfill job lease released", metadata: [LogKey.lease: "\(instance)"])
        } catch {
            // The lease then expires by itself and the jobs are adopted after leaseTTL. Cancelled (rather than asked to
            // stop) means the whole process is being torn down: nothing to warn about.
            logger.log(
                level: Task.isCancelled ? .debug : .warning, "Backfill job lease not released",
                metadata: [LogKey.lease: "\(instance)", LogKey.error: "\(error)"]
            )
        }
    }

    /// One heartbeat and one adoption pass.
    func renewAndAdopt() async {
        do {
            try await store.heartbeat(instance: instance)
            var adopted = try await store.adoptOrphanedJobs(instance: instance, leaseTTL: leaseTTL, limit: adoptionBatch)
            while !adopted.isEmpty {
                enqueue(adopted)
                guard adopted.count == adoptionBatch, !Task.isCancelled else { break }
                adopted = try await store.adoptOrphanedJobs(instance: instance, leaseTTL: leaseTTL, limit: adoptionBatch)
            }
        } catch where Task.isCancelled {
            return
        } catch {
            logger.warning("Backfill job lease heartbeat failed", metadata: [LogKey.lease: "\(instance)", LogKey.error: "\(error)"])
        }
    }

    private func enqueue(_ jobs: [OpenBackfillJob]) {
        EventBackfillMetrics.jobsAdopted(jobs.count)
        logger.info("Resuming backfill jobs left open by another process", metadata: [LogKey.jobs: "\(jobs.count)"])
        for job in jobs {
            var request = BackfillRequest(token: job.token, reason: job.reason, wantsTail: true, jobIDs: [job.id])
            if let time = job.eventTime { request.eventTimestamps = [time.timeIntervalSince1970] }
            EventBackfillMetrics.trigger(reason: request.reason.rawValue, outcome: queue.enqueue(request) == .closed ? "deferred" : "queued")
        }
    }
}
