import CRMCore
import Foundation
import Plot

/// Who is looking at a page: what the header shows and which links the navigation offers.
public struct Viewer: Sendable {
    public var id: Int64
    public var name: String
    public var role: UserRole

    public init(id: Int64, name: String, role: UserRole) {
        self.id = id; self.name = name; self.role = role
    }

    /// Managers and admins read the audit log and every import (as the API allows them).
    public var readsAudit: Bool { role == .admin || role == .manager }
    public var isAdmin: Bool { role == .admin }
}

/// What every page needs besides its own model: language, viewer, the CSRF token its forms
/// carry, and where it is (so the language switch can come back to it).
public struct PageContext: Sendable {
    public var language: UILanguage
    public var viewer: Viewer?
    public var csrfToken: String
    public var path: String

    public init(language: UILanguage, viewer: Viewer?, csrfToken: String, path: String) {
        self.language = language; self.viewer = viewer; self.csrfToken = csrfToken; self.path = path
    }

    public var strings: Strings { Strings(language) }
}

/// The top-level places in the navigation.
public enum NavSection: String, Sendable, CaseIterable {
    case dashboard, customers, tasks, imports, duplicates, audit, admin
}

/// The name of the hidden form field that carries the CSRF token.
public let csrfFieldName = "_csrf"

/// The frame of every page: head, header with navigation, language switch and sign-out,
/// and the page's own content in `main`.
public enum Layout {
    /// `refreshAfter` reloads the page after that many seconds (an import in progress).
    public static func page(_ title: String, _ context: PageContext, section: NavSection?,
                            _ content: [Node<HTML.BodyContext>], refreshAfter: Int? = nil) -> HTML {
        let s = context.strings
        return HTML(
            .attribute(named: "lang", value: context.language.rawValue),
            .head(
                .meta(.charset(.utf8)),
                .meta(.name("viewport"), .content("width=device-width, initial-scale=1")),
                .element(named: "title", text: title + " · " + s[.appName]),
                .unwrap(refreshAfter) { .meta(.attribute(named: "http-equiv", value: "refresh"), .content(String($0))) },
                .link(.rel(.stylesheet), .href(Assets.stylesheetPath)),
                .link(.rel(.icon), .href(Assets.iconPath)),
                .script(.src(Assets.scriptPath), .attribute(named: "defer"))
            ),
            .body(
                .header(.class("top"),
                    .a(.class("brand"), .href("/"), .text(s[.appName])),
                    .unwrap(context.viewer) { viewer in navigation(viewer, section: section, s) },
                    .div(.class("who"),
                        .unwrap(context.viewer) { viewer in
                            .span(.class("user"), .text(viewer.name + " · " + s.term(viewer.role)))
                        },
                        languageSwitch(context),
                        .if(context.viewer != nil, signOut(context))
                    )
                ),
                .main(.id("main"), .group(content)),
                .footer(.class("foot"), .text(s[.footer]))
            )
        )
    }

    static func navigation(_ viewer: Viewer, section: NavSection?, _ s: Strings) -> Node<HTML.BodyContext> {
        var items: [(NavSection, String, UIText)] = [
            (.dashboard, "/", .navDashboard), (.customers, "/customers", .navCustomers), (.tasks, "/tasks", .navTasks),
            (.imports, "/imports", .navImports), (.duplicates, "/duplicates", .navDuplicates),
        ]
        if viewer.readsAudit { items.append((.audit, "/audit", .navAudit)) }
        if viewer.isAdmin { items.append((.admin, "/admin/users", .navAdmin)) }
        return .nav(.class("sections"), .forEach(items) { item in
            .a(.href(item.1), .text(s[item.2]), .if(item.0 == section, .attribute(named: "aria-current", value: "page")))
        })
    }

    /// A form, so it works without JavaScript; signed in, the choice is saved on the account.
    static func languageSwitch(_ context: PageContext) -> Node<HTML.BodyContext> {
        .form(.class("inline"), .action("/language"), .method(.post),
              hiddenCSRF(context),
              .input(.type(.hidden), .name("language"), .value(context.language.other.rawValue)),
              .input(.type(.hidden), .name("back"), .value(context.path.attributeEscaped)),
              .button(.type(.submit), .id("language-switch"), .attribute(named: "lang", value: context.language.other.rawValue),
                      .text(context.language.other.nativeName)))
    }

    static func signOut(_ context: PageContext) -> Node<HTML.BodyContext> {
        .form(.class("inline"), .action("/logout"), .method(.post),
              hiddenCSRF(context),
              .button(.type(.submit), .id("sign-out"), .text(context.strings[.signOut])))
    }

    public static func hiddenCSRF(_ context: PageContext) -> Node<HTML.FormContext> {
        .input(.type(.hidden), .name(csrfFieldName), .value(context.csrfToken.attributeEscaped))
    }

    /// A page that says what went wrong (not found, not allowed) in the viewer's language.
    public static func errorPage(status: Int, message: String, _ context: PageContext) -> HTML {
        let s = context.strings
        let title = status == 404 ? s[.notFound] : status == 403 ? s[.forbidden] : s[.somethingWrong]
        return page(title, context, section: nil, [
            .h1(.text(title)),
            .p(.class("error"), .text(message)),
            .p(.a(.href("/"), .text(s[.backToDashboard]))),
        ])
    }
}

extension HTML {
    /// The document as the server sends it: compact, with the doctype.
    public var document: String { render() }
}
