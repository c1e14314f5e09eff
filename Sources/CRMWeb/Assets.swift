/// The stylesheet, script and icon, served by the product itself (no external requests).
/// They are small enough to keep in the binary; their paths carry a version so browsers can
/// cache them for good and still see a new release.
public enum Assets {
    public static let version = "1"
    public static let stylesheetPath = "/static/app-\(version).css"
    public static let scriptPath = "/static/app-\(version).js"
    public static let iconPath = "/static/icon-\(version).svg"

    public static let icon = """
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 3 30 29H2z" fill="#1f5fa8"/><path d="M16 3 21 12.3H11z" fill="#d9dde3"/></svg>
    """

    public static let stylesheet = """
    :root{--ink:#1c2430;--muted:#5b6675;--line:#d9dde3;--bg:#f6f7f9;--card:#fff;--accent:#1f5fa8;--bad:#b42318;--good:#067647;
    --platinum:#6b7280;--gold:#c79a1e;--iron:#8a8f98;--lead:#4b5563;font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif}
    *{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);line-height:1.45}
    a{color:var(--accent)}main{max-width:1200px;margin:0 auto;padding:1rem}
    .top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.5rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
    .brand{font-weight:700;text-decoration:none;color:var(--ink)}
    .sections{display:flex;flex-wrap:wrap;gap:.25rem .75rem;flex:1}
    .sections a{text-decoration:none;padding:.2rem .1rem}.sections a[aria-current=page]{font-weight:700;border-bottom:2px solid var(--accent)}
    .who{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;font-size:.9rem}
    .inline{display:inline}button,.button{font:inherit;padding:.35rem .8rem;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:4px;cursor:pointer;text-decoration:none;display:inline-block}
    button.quiet,.who button{background:transparent;color:var(--accent)}
    .foot{color:var(--muted);font-size:.8rem;text-align:center;padding:2rem 1rem}
    h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
    .card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:1rem;margin-bottom:1rem;min-width:0}
    .card>h2:first-child,.card>h1:first-child{margin-top:0}
    .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,340px),1fr));gap:1rem;align-items:start}
    .grid.charts{grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr))}
    .heading{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem 1rem}.heading h1{margin-right:auto}.heading p{flex-basis:100%;margin:0 0 .5rem}
    .figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:.5rem;margin:0 0 1rem}
    .figure{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem}
    .figure b{display:block;font-size:1.25rem}.figure span{color:var(--muted);font-size:.85rem}
    table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
    th{font-size:.85rem;color:var(--muted);font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
    .scroll{overflow-x:auto;max-width:100%}
    .badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.8rem;border:1px solid var(--line);background:#eef2f7;white-space:nowrap}
    .badge.platinum{background:#e5e7eb}.badge.gold{background:#fdf3d0}.badge.high{background:#fde2e1;color:var(--bad)}
    form.stack label{display:block;margin:.6rem 0 .2rem;font-weight:600;font-size:.9rem}
    input,select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:4px;max-width:100%}
    form.stack input[type=text],form.stack input[type=email],form.stack input[type=tel],form.stack input[type=date],form.stack input[type=password],form.stack select,form.stack textarea{width:100%}
    .field-error{color:var(--bad);font-size:.85rem;margin:.15rem 0}.error{color:var(--bad)}.notice{color:var(--good)}
    .filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}.filters label{font-size:.8rem;color:var(--muted);display:block}
    .filters input[type=search]{min-width:min(100%,16rem)}
    .timeline{list-style:none;padding:0;margin:0}.timeline li{border-left:3px solid var(--line);padding:.25rem .75rem;margin:.25rem 0}
    .timeline time{color:var(--muted);font-size:.85rem;margin-right:.5rem}.timeline .kind{font-weight:600;margin-right:.5rem}
    .actions{margin:.5rem 0 1rem}details.action{display:inline-block;margin:0 .5rem .5rem 0;vertical-align:top;background:none;border:0;padding:0}
    details.action[open]{display:block;background:var(--card);border:1px solid var(--line);padding:1rem}
    details.action summary{cursor:pointer;list-style:none}details.action summary::-webkit-details-marker{display:none}
    dl.profile{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dl.profile dt{color:var(--muted)}dl.profile dd{margin:0;overflow-wrap:anywhere}
    .chart svg{width:100%;height:auto;display:block}.chart text{font-size:15px;fill:var(--ink)}.chart text.on-dark{fill:#fff}
    .chart .tier text{font-size:16px}
    .pager{display:flex;gap:1rem;margin-top:.75rem}.muted{color:var(--muted)}
    .signin{max-width:22rem;margin:3rem auto}fieldset{border:1px solid var(--line);border-radius:4px;margin:.6rem 0}label.check{display:inline-block;margin-right:1rem;font-weight:400}
    .changes{margin:0;padding-left:1rem}.views{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:center;margin:-.5rem 0 .75rem}
    .views .view{white-space:nowrap}button.small{padding:0 .35rem;border:0}.views details.action summary.button{padding:.15rem .6rem;font-size:.9rem}
    @media (max-width:600px){main{padding:.5rem}.top{padding:.5rem}.sections{order:3;flex-basis:100%}table.responsive thead{display:none}
    table.responsive tr{display:block;border-bottom:1px solid var(--line);padding:.25rem 0}table.responsive td{display:block;border:0;padding:.1rem .25rem}
    table.responsive td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);font-size:.8rem}}
    """

    /// Search as you type on the customer list: the same page is fetched with the query and
    /// its result table swapped in, so without JavaScript the form simply submits.
    public static let script = """
    (function(){
    var box=document.querySelector('input[data-live-search]');if(!box){return;}
    var target=document.getElementById(box.getAttribute('data-live-search'));var timer=null,seq=0;
    box.addEventListener('input',function(){clearTimeout(timer);timer=setTimeout(function(){
    var form=box.form;var params=new URLSearchParams(new FormData(form));params.set('fragment','results');var mine=++seq;
    fetch(form.getAttribute('action')+'?'+params.toString(),{credentials:'same-origin'}).then(function(r){return r.ok?r.text():null;})
    .then(function(html){if(html!==null&&mine===seq){target.innerHTML=html;params.delete('fragment');
    history.replaceState(null,'',form.getAttribute('action')+'?'+params.toString());}});},200);});
    })();
    """
}
