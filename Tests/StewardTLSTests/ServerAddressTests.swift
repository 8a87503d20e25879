import Dispatch
import StewardTLS
import Testing

/// Listen addresses as an operator writes them in steward.conf.
@Suite struct ServerAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8443", HTTPSServer.Address(host: .ipv4("127.0.0.1"), port: 8443)),
        ("[::1]:443", HTTPSServer.Address(host: .ipv6("::1"), port: 443)),
        ("[2001:DB8:0::10]:8443", HTTPSServer.Address(host: .ipv6("2001:db8::10"), port: 8443)),
        ("*:8443", HTTPSServer.Address(host: .any, port: 8443)),
        (" 0.0.0.0:0 ", HTTPSServer.Address(host: .ipv4("0.0.0.0"), port: 0)),
    ])
    func readsTheThreeForms(text: String, expected: HTTPSServer.Address) throws {
        #expect(try HTTPSServer.Address(parsing: text) == expected)
    }

    @Test func writesAddressesBackInTheFormTheyAreRead() throws {
        for text in ["127.0.0.1:8443", "[2001:db8::10]:8443", "*:8443"] {
            #expect(try HTTPSServer.Address(parsing: text).description == text)
        }
    }

    @Test(arguments: ["localhost:8443", "::1:443", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
                      "[::1]443", "[::1", "*:abc", "300.1.1.1:80", "[127.0.0.1]:80", ":8443", ""])
    func refusesAnythingElseAndSaysWhichFormsWork(text: String) {
        do throws(HTTPSServerError) {
            _ = try HTTPSServer.Address(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.code == .invalidAddress)
            #expect(error.message.contains("[2001:db8::10]:8443"))
        }
    }

    @Test func aPortInUseIsRefusedWithAnErrorThatSaysSo() throws {
        let first = try TestServer()
        do throws(HTTPSServerError) {
            _ = try HTTPSServer(address: HTTPSServer.Address(parsing: "127.0.0.1:\(first.port)"), contexts: first.contexts,
                                router: HTTPRouter(), loops: [DispatchQueue(label: "unused")])
            Issue.record("a second server bound port \(first.port)")
        } catch {
            #expect(error.code == .addressInUse)
            #expect(error.address == "127.0.0.1:\(first.port)")
        }
    }
}
