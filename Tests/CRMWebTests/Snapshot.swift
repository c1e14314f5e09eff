import Foundation
import Testing

/// Compares a page's HTML with the recorded snapshot beside this file
/// (`__Snapshots__/NAME.html`, one tag per line so a diff reads well). A missing snapshot, or
/// any with CRM_RECORD_SNAPSHOTS=1, is written and the test fails so it gets looked at.
func assertSnapshot(_ html: String, named name: String, filePath: String = #filePath, sourceLocation: SourceLocation = #_sourceLocation) {
    let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("__Snapshots__")
    let file = directory.appendingPathComponent(name + ".html")
    let text = html.replacingOccurrences(of: "><", with: ">\n<") + "\n"
    let record = ProcessInfo.processInfo.environment["CRM_RECORD_SNAPSHOTS"] == "1"
    guard !record, let recorded = try? String(contentsOf: file, encoding: .utf8) else {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? text.write(to: file, atomically: true, encoding: .utf8)
        Issue.record("recorded snapshot \(name); check it and run again", sourceLocation: sourceLocation)
        return
    }
    if recorded != text {
        let a = recorded.split(separator: "\n", omittingEmptySubsequences: false), b = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = Array(zip(a, b)).firstIndex { $0.0 != $0.1 } ?? min(a.count, b.count)
        let expected = line < a.count ? String(a[line]) : "(end)", actual = line < b.count ? String(b[line]) : "(end)"
        Issue.record("snapshot \(name) differs at line \(line + 1):\n  recorded: \(expected)\n  rendered: \(actual)", sourceLocation: sourceLocation)
    }
}
