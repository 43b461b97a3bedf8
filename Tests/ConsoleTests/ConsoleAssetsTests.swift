// Goal: the web console compiled into the node is complete and self-contained: every file the page or a module
// refers to exists, nothing refers outside the node, and each file has the right content type and a stable ETag.
// Method: read the assets' own text (index.html's src/href, the modules' `from "./x.js"` imports, CSS url()),
// so adding a file without registering it, or a link to a CDN, fails here rather than in a browser.
import Foundation
import Testing

@testable import Console

@Suite("Web console assets")
struct ConsoleAssetsTests {
    /// The values of `attribute="…"` in an HTML text.
    static func attributeValues(_ attribute: String, in text: String) -> [String] {
        var values: [String] = []
        var rest = Substring(text)
        let opener = " \(attribute)=\""
        while let start = rest.range(of: opener) {
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: "\"") else { break }
            values.append(String(after[..<end]))
            rest = after[end...]
        }
        return values
    }

    /// The module specifiers of `import … from "…"` lines in a JavaScript text.
    static func imports(in text: String) -> [String] {
        text.components(separatedBy: "\n").compactMap { line -> String? in
            guard line.hasPrefix("import "), let from = line.range(of: " from \"") else { return nil }
            let after = line[from.upperBound...]
            return after.firstIndex(of: "\"").map { String(after[..<$0]) }
        }
    }

    static func text(_ asset: ConsoleAsset) -> String { String(decoding: asset.bytes, as: UTF8.self) }

    /// Every reference the page makes: index.html's links and scripts, and every module's imports.
    static var references: [String] {
        let index = ConsoleAssets.asset(named: "index.html")!
        var found = attributeValues("src", in: text(index)) + attributeValues("href", in: text(index))
        for asset in ConsoleAssets.all where asset.name.hasSuffix(".js") { found += imports(in: text(asset)) }
        return found
    }

    @Test("the directory itself is index.html; unknown names are nil")
    func lookup() throws {
        #expect(ConsoleAssets.asset(named: "")?.name == "index.html")
        #expect(ConsoleAssets.asset(named: "index.html")?.name == "index.html")
        #expect(ConsoleAssets.asset(named: "app.js")?.name == "app.js")
        #expect(ConsoleAssets.asset(named: "missing.js") == nil)
        #expect(ConsoleAssets.asset(named: "../Package.swift") == nil)
        #expect(ConsoleAssets.all.first?.name == "index.html")
        #expect(Set(ConsoleAssets.all.map(\.name)).count == ConsoleAssets.all.count, "names are unique")
    }

    @Test("content types follow the extension, with a charset for text")
    func contentTypes() throws {
        for asset in ConsoleAssets.all {
            let expected: String =
                if asset.name.hasSuffix(".html") { "text/html; charset=utf-8" }
                else if asset.name.hasSuffix(".js") { "text/javascript; charset=utf-8" }
                else { "text/css; charset=utf-8" }
            #expect(asset.contentType == expected, "\(asset.name)")
        }
        #expect(ConsoleAsset.contentType(of: "x.exe") == nil)
    }

    @Test("ETags are quoted, differ between files and follow the bytes")
    func etags() throws {
        let tags = ConsoleAssets.all.map(\.etag)
        #expect(Set(tags).count == tags.count)
        for asset in ConsoleAssets.all {
            #expect(asset.etag.hasPrefix("\"") && asset.etag.hasSuffix("\"") && asset.etag.count > 2)
            #expect(asset.etag == ConsoleAsset.etag(asset.bytes))
        }
        #expect(ConsoleAsset.etag(Array("a".utf8)) != ConsoleAsset.etag(Array("b".utf8)))
    }

    @Test("every file index.html or a module refers to exists, and every file is referred to")
    func referencesResolve() throws {
        let references = Self.references.filter { !$0.hasPrefix("data:") }
        #expect(references.contains("app.js") && references.contains("style.css"))
        for reference in references {
            let name = reference.hasPrefix("./") ? String(reference.dropFirst(2)) : reference
            #expect(ConsoleAssets.asset(named: name) != nil, "\(reference) is referred to but not an asset")
        }
        let referred = Set(references.map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : $0 })
        for asset in ConsoleAssets.all where asset.name != "index.html" {
            #expect(referred.contains(asset.name), "\(asset.name) is never loaded")
        }
    }

    @Test("no file refers to anything outside the node")
    func nothingExternal() throws {
        for asset in ConsoleAssets.all {
            let text = Self.text(asset)
            #expect(!text.contains("http://") && !text.contains("https://"), "\(asset.name) names an absolute URL")
            #expect(!text.contains("@import"), "\(asset.name) imports a stylesheet")
            #expect(!text.contains("url("), "\(asset.name) loads a resource from CSS")
        }
        for reference in Self.references where !reference.hasPrefix("data:") {
            #expect(!reference.hasPrefix("/") && !reference.contains(":"), "\(reference) is not relative to /ui/")
        }
    }

    @Test("text assets are valid UTF-8 and index.html loads the app as a module")
    func indexLoadsApp() throws {
        let index = Self.text(ConsoleAssets.asset(named: "index.html")!)
        #expect(index.hasPrefix("<!doctype html>"))
        #expect(index.contains("<script type=\"module\" src=\"app.js\"></script>"))
        for asset in ConsoleAssets.all {
            #expect(String(validating: asset.bytes, as: UTF8.self) != nil, "\(asset.name)")
        }
    }
}
