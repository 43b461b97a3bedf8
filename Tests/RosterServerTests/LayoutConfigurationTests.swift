// Goal: `--etcd-layout` parses as documented: no layouts by default, the ones given otherwise (not extended) by any
// setting, repeatable and comma-separated, `none` for none, and refused with a typed error when a layout cannot
// work. Method: the pure `ServerConfiguration.parse` with argument arrays and an injected config file.
@testable import RosterServer
import Registry
import Testing

private struct MissingFile: Error {}

private func layouts(_ arguments: [String], file: String? = nil) throws(ConfigurationError) -> [String] {
    try ServerConfiguration.parse(arguments: arguments) { _ in
        guard let file else { throw MissingFile() }
        return file
    }.etcdLayouts.map(\.description)
}

@Suite("--etcd-layout")
struct LayoutConfigurationTests {
    @Test("layouts are off by default; the standard pair is one flag away")
    func standard() throws {
        #expect(try layouts([]) == [])
        #expect(try layouts(["--etcd-layout", "kratos=/microservices,kitex=kitex/registry-etcd"])
            == FrameworkLayout.standard.map(\.description))
        #expect(ServerConfiguration.helpText.contains("--etcd-layout FRAMEWORK[@NS]=PREFIX"))
        #expect(ServerConfiguration.helpText.contains("(default none)"))
    }

    @Test("given layouts replace the standard ones; the flag repeats and takes comma lists")
    func replaced() throws {
        #expect(try layouts(["--etcd-layout", "kratos@prod=/svc"]) == ["kratos@prod=/svc"])
        #expect(try layouts(["--etcd-layout", "kratos=/a", "--etcd-layout=kitex=/b,kratos@x=/c"]) == ["kratos=/a", "kitex=/b", "kratos@x=/c"])
        #expect(try layouts(["--etcd-layout", "none"]) == [])
        #expect(try layouts(["--config", "f"], file: "etcd-layout = kitex=/k\netcd-layout = kratos=/m\n") == ["kitex=/k", "kratos=/m"])
    }

    @Test("layouts that cannot work are refused with what to write instead",
          arguments: [["--etcd-layout", "spring=/x"], ["--etcd-layout", "kratos=micro"], ["--etcd-layout", "kratos=/m,kitex=/m/k"],
                      ["--etcd-layout", "kratos@no/slash=/m"]])
    func refused(arguments: [String]) {
        #expect(throws: ConfigurationError.self) { try layouts(arguments) }
        do {
            _ = try layouts(arguments)
        } catch {
            #expect(error.description.hasPrefix("--etcd-layout"))
            #expect(error.description.contains("kratos=/microservices,kitex=kitex/registry-etcd"))
        }
    }
}
