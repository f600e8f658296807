#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// glibc's malloc gives each thread that contends for the heap an arena of its own, up to 8 per core, and keeps what a
/// burst freed inside the arena that served it. A service whose event loops, Swift concurrency threads and libpq/hiredis
/// calls all allocate then holds on to every burst it ever had: TickerService sat at 281 MiB resident after subscribing
/// 25,000 instruments, 113 MiB with two arenas (`Benchmarks ticker`, same run of the machine).
public enum AllocatorArenas {
    /// The arenas a service allows unless `MALLOC_ARENA_MAX` says otherwise.
    public static let defaultLimit: Int32 = 2

    /// Caps malloc's arenas at ``defaultLimit``, unless the environment sets `MALLOC_ARENA_MAX` (glibc read it at
    /// start, and an operator's choice wins). Call first thing in `main`, before threads allocate.
    /// - Parameter environment: The process environment.
    /// - Returns: The limit applied, nil when the environment's is kept or the platform has no glibc.
    @discardableResult
    public static func limit(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32? {
        #if canImport(Glibc)
        guard environment["MALLOC_ARENA_MAX"] == nil else { return nil }
        // <malloc.h> is not in Swift's Glibc module: mallopt is looked up by name, M_ARENA_MAX is its value there.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mArenaMax: Int32 = -8
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return nil }
        return unsafeBitCast(symbol, to: Mallopt.self)(mArenaMax, defaultLimit) == 1 ? defaultLimit : nil
        #else
        return nil
        #endif
    }
}
