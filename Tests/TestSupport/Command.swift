import Foundation

/// Runs a short-lived tool (promtool, a Python checker, a validator) to completion and keeps what it printed.
public enum Command {
    /// What a finished command left behind.
    public struct Outcome: Sendable {
        /// Its exit status.
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// Runs `executable` with `arguments` and waits for it.
    /// - Parameters:
    ///   - executable: Absolute path of the program.
    ///   - arguments: Its arguments.
    ///   - workingDirectory: Where it runs; the package root when nil.
    ///   - environment: Variables added to the test process's environment.
    /// - Returns: The exit status and output.
    /// - Throws: When the program cannot be started.
    public static func run(_ executable: String, _ arguments: [String], workingDirectory: URL? = nil, environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = workingDirectory ?? OpenAPISpec.root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: text)
    }

    /// The project's Python virtual environment (`scripts/venv.sh`): `$PROJECT_VENV`, else `.venv` in the package root.
    public static var venv: String {
        ProcessInfo.processInfo.environment["PROJECT_VENV"].flatMap { $0.isEmpty ? nil : $0 } ?? OpenAPISpec.root.appendingPathComponent(".venv").path
    }

    /// The path of a program on `PATH`, or an error that says which Debian package provides it.
    /// - Parameters:
    ///   - name: The program.
    ///   - package: The Debian package `scripts/install-deps.sh` installs it from.
    /// - Throws: ``ChildProcessError`` when it is not installed.
    public static func required(_ name: String, package: String) throws -> String {
        guard let path = ChildProcess.which(name) else {
            throw ChildProcessError(message: "\(name) not found: run scripts/install-deps.sh (apt-get install \(package))")
        }
        return path
    }
}
