#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A TCP listener on 127.0.0.1 that accepts connections and never answers them: a peer (or a load balancer in front of
/// it) that hangs after the TCP handshake. It counts the connections it accepted.
public final class SilentListener: Sendable {
    public let port: Int
    private let listener: Int32
    private let accepted = Mutex<[Int32]>([])
    private let closed = Atomic<Bool>(false)

    public init() throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw PlatformError("SilentListener: socket() failed, errno \(errno)") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard bound == 0, named == 0, listen(fd, 64) == 0 else {
            _ = Self.closeDescriptor(fd)
            throw PlatformError("SilentListener: cannot listen on 127.0.0.1, errno \(errno)")
        }
        listener = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "silent-listener-\(port)"
        thread.start()
    }

    /// Connections accepted so far.
    public var connectionCount: Int { accepted.withLock { $0.count } }

    /// Stops listening and closes every accepted connection.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))  // wakes the blocked accept()
        for fd in accepted.withLock({ $0 }) { _ = Self.closeDescriptor(fd) }
    }

    deinit {
        close()
        _ = Self.closeDescriptor(listener)
    }

    private func acceptLoop() {
        while !closed.load(ordering: .acquiring) {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            accepted.withLock { $0.append(fd) }
        }
    }

    private static func closeDescriptor(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.close(fd)
        #else
        Darwin.close(fd)
        #endif
    }
}
