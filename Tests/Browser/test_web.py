"""Browser tests of the web application: a real headless Chromium (Debian's chromium and
chromium-driver) against a running server with the demo company.

    CRM_BASE_URL=http://127.0.0.1:8090 python3 Tests/Browser/test_web.py

Screenshots of each main page go to $CRM_CI_ARTIFACTS_DIR/screenshots (ci-artifacts/ by default).
Run by .ci/browser-tests.sh, which starts the server.
"""
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get("CRM_BASE_URL", "http://127.0.0.1:8090").rstrip("/")
ARTIFACTS = os.environ.get("CRM_CI_ARTIFACTS_DIR", os.path.join(os.getcwd(), "ci-artifacts"))
SHOTS = os.path.join(ARTIFACTS, "screenshots")
PASSWORD = "crm-demo-2026"


def make_driver(width=1280, height=1000):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROME_BIN", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=zh-CN"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


class WebApplicationTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(SHOTS, exist_ok=True)
        cls.driver = make_driver()
        # Pages that refresh themselves (an import in progress) can swap elements mid-check.
        # A page being replaced while an element of it is read can also surface as a plain
        # WebDriverException ("Node with given id does not belong to the document"); a wait
        # tries again, and still fails with a timeout if the page never gets there.
        cls.wait = WebDriverWait(cls.driver, 20,
                                 ignored_exceptions=(NoSuchElementException, StaleElementReferenceException, WebDriverException))
        cls.sign_in("admin")

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()

    @classmethod
    def sign_in(cls, username):
        d = cls.driver
        d.get(BASE + "/login")
        d.find_element(By.ID, "username").send_keys(username)
        d.find_element(By.ID, "password").send_keys(PASSWORD)
        d.find_element(By.ID, "sign-in").click()
        cls.wait.until(EC.presence_of_element_located((By.ID, "sign-out")))

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(SHOTS, name + ".png"))

    def api(self, path):
        """GET an API path with the browser's session cookie (reads need no CSRF token)."""
        cookie = self.driver.get_cookie("crm_session")
        request = urllib.request.Request(BASE + path, headers={"Cookie": "crm_session=" + cookie["value"]})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def heading(self):
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def open_first_found(self, query):
        """Searches the customer list and opens the first hit's 360 page; returns its name."""
        d = self.driver
        d.get(BASE + "/customers?q=" + urllib.parse.quote(query))
        link = d.find_element(By.CSS_SELECTOR, "#results tbody td:first-child a")
        name = link.text
        link.click()
        self.wait.until(lambda _: d.find_elements(By.ID, "timeline") or d.find_elements(By.CSS_SELECTOR, "main .figures, main p.muted"))
        return name

    def first_customer_id(self, query):
        hits = self.api("/api/v1/search?q=" + urllib.parse.quote(query))
        return hits["items"][0]["id"] if isinstance(hits, dict) else hits[0]["id"]

    # --- the flows -----------------------------------------------------------------

    def test_01_dashboard_after_sign_in(self):
        self.driver.get(BASE + "/")
        self.assertEqual(self.heading(), "仪表盘")
        self.shot("dashboard-zh")

    def test_02_switch_language_and_back(self):
        d = self.driver

        def back_to_chinese():
            # The language is remembered on the account: if this test stops half-way, the
            # tests after it must still see Chinese pages.
            d.get(BASE + "/")
            if d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en":
                d.find_element(By.ID, "language-switch").click()
                self.wait.until(lambda _: self.heading() == "仪表盘")

        self.addCleanup(back_to_chinese)
        d.get(BASE + "/customers")
        d.find_element(By.ID, "language-switch").click()
        self.wait.until(lambda _: self.heading() == "Customers")
        self.assertEqual(d.find_element(By.TAG_NAME, "html").get_attribute("lang"), "en")
        self.shot("customers-en")
        # Remembered on the account: a new page in the same session is still English.
        d.get(BASE + "/")
        self.assertEqual(self.heading(), "Dashboard")
        self.shot("dashboard-en")
        d.find_element(By.ID, "language-switch").click()
        self.wait.until(lambda _: self.heading() == "仪表盘")

    def test_03_find_a_chinese_name_by_one_character(self):
        d = self.driver
        d.get(BASE + "/customers")
        box = d.find_element(By.ID, "q")
        box.send_keys("张")
        # Search as you type: the results are swapped in without submitting the form.
        self.wait.until(lambda _: "q=" in d.current_url)
        names = [a.text for a in d.find_elements(By.CSS_SELECTOR, "#results tbody td:first-child a")]
        self.assertTrue(names, "no result for 张")
        for name in names:
            self.assertIn("张", name + " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, "#results tbody tr")))
        self.assertTrue(any("张" in n for n in names))
        self.shot("customers-search")

    def test_04_open_the_360_page(self):
        d = self.driver
        name = self.open_first_found("张")
        self.assertIn("/customers/", d.current_url)
        self.assertIn(name, self.heading())
        self.assertTrue(d.find_elements(By.ID, "timeline") or d.find_elements(By.CSS_SELECTOR, "main .muted"))
        self.shot("customer-360")

    def test_05_edit_a_field_and_see_the_audit_entry(self):
        d = self.driver
        self.open_first_found("王")
        customer_url = d.current_url.split("?")[0]
        customer_id = customer_url.rstrip("/").split("/")[-1]
        d.find_element(By.ID, "edit-customer").click()
        industry = "行业-" + uuid.uuid4().hex[:6]
        field = self.wait.until(EC.presence_of_element_located((By.ID, "industry")))
        field.clear()
        field.send_keys(industry)
        self.shot("customer-edit")
        d.find_element(By.ID, "save-customer").click()
        self.wait.until(EC.presence_of_element_located((By.ID, "notice")))
        self.assertIn(industry, d.find_element(By.ID, "timeline").text)
        d.get(BASE + "/audit?entity=customer&entityID=" + customer_id)
        table = d.find_element(By.ID, "audit-table").text
        self.assertIn(industry, table)
        self.assertIn("industry", table)
        self.shot("audit-log")

    def test_06_log_a_call_and_see_it_on_the_timeline(self):
        d = self.driver
        self.open_first_found("李")
        subject = "电话回访 " + uuid.uuid4().hex[:6]
        d.find_element(By.ID, "log-contact").click()  # click 1: open the form (a call is preselected)
        d.find_element(By.ID, "interaction-subject").send_keys(subject)
        d.find_element(By.ID, "save-contact").click()  # click 2: save
        self.wait.until(EC.presence_of_element_located((By.ID, "notice")))
        first = d.find_element(By.CSS_SELECTOR, "#timeline li").text
        self.assertIn(subject, first)
        self.assertIn("电话", first)

    def test_07_import_with_a_bad_row_shows_its_error(self):
        d = self.driver
        tag = uuid.uuid4().hex[:6]
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as f:
            f.write("external_id,name,email,phone\n")
            f.write(f"web-{tag}-1,测试客户甲{tag},jia-{tag}@example.com,13800138000\n")
            f.write(f"web-{tag}-2,测试客户乙{tag},not-an-email,13800138001\n")
            path = f.name
        d.get(BASE + "/imports")
        Select(d.find_element(By.ID, "import-kind")).select_by_value("customers")
        d.find_element(By.ID, "import-file").send_keys(path)
        d.find_element(By.ID, "upload").click()
        # Step two: the columns as recognised; start as they are.
        self.wait.until(EC.presence_of_element_located((By.ID, "mapping-table")))
        self.assertEqual(Select(d.find_element(By.ID, "map-2")).first_selected_option.get_attribute("value"), "email")
        self.shot("import-mapping")
        d.find_element(By.ID, "start-import").click()
        self.wait.until(lambda _: d.find_elements(By.CSS_SELECTOR, "#import-job[data-status=finished]"))
        problems = d.find_element(By.ID, "import-problems").text
        self.assertIn("3", problems)  # the bad row is line 3 of the file (header is line 1)
        self.assertIn("not-an-email", problems)
        self.assertIn("不是有效的邮箱地址", problems)  # the reason, in the page's language
        self.assertEqual(d.find_element(By.CSS_SELECTOR, "#import-created b").text, "1")
        self.assertEqual(d.find_element(By.CSS_SELECTOR, "#import-rejected b").text, "1")
        self.shot("import-result")
        os.unlink(path)

    def test_08_pyramid_shows_four_tiers_with_the_right_counts(self):
        d = self.driver
        d.get(BASE + "/")
        tiers = d.find_elements(By.CSS_SELECTOR, "#pyramid-chart g.tier")
        self.assertEqual([t.get_attribute("data-tier") for t in tiers], ["platinum", "gold", "iron", "lead"])
        for t in tiers:
            tier = t.get_attribute("data-tier")
            shown = int(t.get_attribute("data-customers"))
            # Counted independently: the customer list filtered by tier, page by page.
            count, cursor = 0, None
            while True:
                page = self.api(f"/api/v1/customers?tier={tier}&limit=500" + (f"&cursor={cursor}" if cursor else ""))
                count += len(page["items"])
                cursor = page.get("nextCursor")
                if not cursor:
                    break
            self.assertEqual(shown, count, tier)
            self.assertIn(f"{count:,}", t.text)
        self.shot("dashboard-pyramid")

    def test_09_phone_viewport_has_no_horizontal_scrolling(self):
        phone = make_driver(375, 812)
        try:
            phone.get(BASE + "/login")
            phone.find_element(By.ID, "username").send_keys("sales")
            phone.find_element(By.ID, "password").send_keys(PASSWORD)
            phone.find_element(By.ID, "sign-in").click()
            WebDriverWait(phone, 15).until(EC.presence_of_element_located((By.ID, "sign-out")))
            customer = self.first_customer_id("张")
            for name, path in [("dashboard", "/"), ("customers", "/customers"), ("customer-360", f"/customers/{customer}"),
                               ("tasks", "/tasks"), ("imports", "/imports"), ("edit", f"/customers/{customer}/edit")]:
                phone.get(BASE + path)
                overflow = phone.execute_script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
                phone.save_screenshot(os.path.join(SHOTS, f"phone-{name}.png"))
                self.assertLessEqual(overflow, 0, f"{path} scrolls sideways by {overflow}px at 375px")
        finally:
            phone.quit()

    def test_11_every_main_page_opens(self):
        d = self.driver
        for name, path, heading in [("tasks", "/tasks", "跟进任务"), ("duplicates", "/duplicates", "重复客户"),
                                    ("admin", "/admin/users", "系统管理"), ("customer-new", "/customers/new", "新建客户"),
                                    ("imports", "/imports", "导入")]:
            d.get(BASE + path)
            self.assertEqual(self.heading(), heading, path)
            self.shot(name)

    def test_10_forms_without_csrf_token_are_refused(self):
        cookie = self.driver.get_cookie("crm_session")
        data = urllib.parse.urlencode({"kind": "call", "subject": "forged"}).encode()
        request = urllib.request.Request(BASE + f"/customers/{self.first_customer_id('张')}/interactions", data=data,
                                         headers={"Cookie": "crm_session=" + cookie["value"]})
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        self.assertEqual(refused.exception.code, 403)


if __name__ == "__main__":
    import urllib.parse  # noqa: E402  (used above through urllib.parse)
    result = unittest.main(verbosity=2, exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
