#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Free loopback TCP ports for test fixtures (servers started by tests bind only to 127.0.0.1).
public enum Ports {
    // Ports already handed out in this process: the kernel may offer the same ephemeral port twice
    // before the first fixture has bound it, and tests run in parallel.
    private static let handedOut = Mutex<Set<Int>>([])

    /// Returns a TCP port on 127.0.0.1 that nothing listens on right now and that this process has not handed out before.
    ///
    /// The port is found by binding port 0 and closing the socket, so another process could still take it
    /// before the caller binds it; fixtures that start servers should retry on "address in use".
    /// - Returns: A port number in the ephemeral range.
    public static func freeLoopbackPort() -> Int {
        for _ in 0..<100 {
            guard let port = bindEphemeral() else { continue }
            let isNew = handedOut.withLock { $0.insert(port).inserted }
            if isNew { return port }
        }
        fatalError("Ports.freeLoopbackPort: could not find a free loopback port")
    }

    /// A loopback port where nothing listens, for the test process's whole life: it is held bound without `listen`, so
    /// no other process can take it and every connection to it is refused at once. Give it to a service under test as
    /// the address of anything the test means to be unreachable, instead of leaving that service's default.
    public static let closedLoopbackPort: Int = {
        for _ in 0..<100 {
            if let port = bindEphemeral(keepOpen: true) { return port }
        }
        fatalError("Ports.closedLoopbackPort: could not bind a loopback port")
    }()

    private static func bindEphemeral(keepOpen: Bool = false) -> Int? {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        var keep = false
        defer { if !keep { close(fd) } }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return nil }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard named == 0 else { return nil }
        keep = keepOpen
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
