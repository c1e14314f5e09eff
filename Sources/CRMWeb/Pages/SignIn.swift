import Plot

/// The sign-in form. A refused sign-in says so without telling which half was wrong.
public struct SignInPage: Sendable {
    public var username: String
    public var problem: String?
    /// Where to go after signing in (the page that asked for it).
    public var next: String

    public init(username: String = "", problem: String? = nil, next: String = "/") {
        self.username = username; self.problem = problem; self.next = next
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        return Layout.page(s[.signIn], context, section: nil, [
            .div(.class("signin card"),
                 .h1(.text(s[.signIn])),
                 .unwrap(problem) { .p(.class("error"), .id("sign-in-problem"), .attribute(named: "role", value: "alert"), .text($0)) },
                 .form(.class("stack"), .action("/login"), .method(.post),
                       Layout.hiddenCSRF(context),
                       .input(.type(.hidden), .name("next"), .value(next.attributeEscaped)),
                       .label(.for("username"), .text(s[.username])),
                       .input(.type(.text), .id("username"), .name("username"), .value(username.attributeEscaped), .required(true), .autofocus(username.isEmpty),
                              .attribute(named: "autocomplete", value: "username"), .attribute(named: "autocapitalize", value: "none")),
                       .label(.for("password"), .text(s[.password])),
                       .input(.type(.password), .id("password"), .name("password"), .required(true), .autofocus(!username.isEmpty),
                              .attribute(named: "autocomplete", value: "current-password")),
                       .p(.button(.type(.submit), .id("sign-in"), .text(s[.signIn]))))),
        ]).document
    }
}
