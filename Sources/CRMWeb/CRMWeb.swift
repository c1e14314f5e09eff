/// CRMWeb: the server-rendered pages (Plot), which use the server's services and never the
/// database. (The web application comes with issue 5.)
public enum CRMWeb {}
