import Foundation

/// Runs a service's command as a real process: `print-config` (reading the `KEY=value` lines it prints), or a start that
/// exits by itself.
public enum CommandRun {
    /// The printed lines as pairs (comment lines, which start with `#`, are left out), and the whole output.
    /// - Parameters:
    ///   - executable: The product name, e.g. `TickerService`.
    ///   - arguments: The arguments that select printing (`print-config` or `--print-config`).
    ///   - environment: The whole environment of the process (nothing is inherited, so no `.env` or shell value leaks in).
    public static func run(_ executable: String, arguments: [String], environment: [String: String]) throws -> (pairs: [(key: String, value: String)], output: String) {
        let (status, output) = try outputOf(executable, arguments: arguments, environment: environment)
        guard status == 0 else {
            throw ChildProcessError(message: "\(executable) \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
        let pairs = output.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> (key: String, value: String)? in
            guard let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
        return (pairs, output)
    }

    /// Runs a built executable to its end (for commands that exit by themselves, e.g. a service whose Redis is
    /// unreachable) and returns its exit status and its standard output and error, interleaved.
    /// - Parameters:
    ///   - executable: The product name.
    ///   - arguments: Its arguments; `--env-file` pointing nowhere is appended.
    ///   - environment: The whole environment of the process.
    public static func outputOf(_ executable: String, arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.executable(executable))
        process.arguments = arguments + ["--env-file", "/nonexistent/print-config-test.env"]
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
