import Foundation

/// Finds the executables SwiftPM built beside the test bundle (e.g. `.build/debug/TickerService`), so
/// integration tests run the real processes.
public enum BuiltProducts {
    /// The build products folder: the directory holding the running test bundle.
    public static var directory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // .build/debug/<Package>PackageTests.xctest (a file on Linux, a bundle folder on macOS).
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("TickerService").path) { return url }
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// The path of a built executable.
    /// - Parameter name: The product name, e.g. `TickerService`.
    /// - Throws: ``ChildProcessError`` when it was not built (run `swift build --build-tests`).
    public static func executable(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ChildProcessError(message: "\(name) is not built at \(path): run `swift build --build-tests` first")
        }
        return path
    }
}
