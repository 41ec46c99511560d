"""Templates and records from real-shaped lines (Spring Boot, klog, JSON, Python, Java stack traces)."""

from __future__ import annotations

import pytest

from tools.logs.templates import TemplateMiner, fold_records, line_level, mask

# One Spring Boot statement: every variable part differs from line to line.
CONTACTS = [
    "16:42:22.382 INFO  c.s.ContactsServiceImpl#34 TraceID: ffc8ca7e4c8f06c75142c880d5595d96 SpanID: "
    "439bc949a9eeb0cc [findContactsById][Find contacts][id: f3d4d4ef-693b-4456-8eed-59c0d717dd08] from "
    "10.0.3.17:8080 in 12ms, attempt 1",
    "16:43:01.007 INFO  c.s.ContactsServiceImpl#34 TraceID: 0a1b2c3d4e5f60718293a4b5c6d7e8f9 SpanID: "
    "9f8e7d6c5b4a3921 [findContactsById][Find contacts][id: 0c9a7b1e-1111-4222-8333-944455556666] from "
    "10.0.12.201:8080 in 340ms, attempt 3",
]


def test_lines_of_one_statement_share_a_template_whatever_their_ids() -> None:
    miner = TemplateMiner()
    ids = {miner.add("contacts", line) for line in CONTACTS}
    assert len(ids) == 1
    text = miner.template(ids.pop()).text
    for secret_or_id in ("ffc8ca7e", "f3d4d4ef", "10.0.3.17", "12ms", "16:42:22"):
        assert secret_or_id not in text
    assert "<UUID>" in text and "<IP>" in text and "<DUR>" in text and "<HEX>" in text
    # the code location names the statement: another line of the same class is another template
    other = miner.add("contacts", CONTACTS[0].replace("#34", "#41").replace("Find contacts", "Save contacts"))
    assert other != miner.add("contacts", CONTACTS[1])
    # the same statement in another service is that service's template
    assert miner.add("orders", CONTACTS[0]) != miner.add("contacts", CONTACTS[0])


def test_payload_dumps_of_any_length_share_their_statement() -> None:
    miner = TemplateMiner()
    stations = ["shanghai", "suzhou", "nanjing", "wuxi", "zhenjiang", "taiyuan"]
    ids = {
        miner.add(
            "travel",
            f"INFO t.s.TravelServiceImpl#532 [getRouteByRouteId][Route is: Route(stations={stations[:n]}, "
            f"distances={list(range(0, 50 * n, 50))})]",
        )
        for n in range(2, 7)
    }
    assert len(ids) == 1


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("16:42:22.382 ERROR c.s.ContactsServiceImpl#37 [findContactsById][No contacts]", "error"),
        ("16:42:22.382 WARN  o.s.OrderServiceImpl#68 [getSoldTickets][Left ticket info is empty]", "warn"),
        ("16:42:22.382 INFO  o.s.OrderServiceImpl#68 retrying after error budget check", "info"),
        ('{"level":"error","msg":"upstream connect error"}', "error"),
        ("time=2025-01-15T12:00:00Z level=warn msg=slow", "warn"),
        ("E0115 12:00:00.000000       1 controller.go:114] sync failed", "error"),
        ("I0115 12:00:00.000000       1 controller.go:114] synced", "info"),
        ("2025/01/15 12:00:00 [error] 29#29: *1 connect() failed (111: Connection refused)", "error"),
        ("java.lang.IllegalStateException: order 42 in wrong state", "error"),
        ("panic: runtime error: invalid memory address or nil pointer dereference", "error"),
        ("processed 12 orders, errors=0", "info"),
    ],
)
def test_level_is_read_from_the_start_of_the_line(line: str, level: str) -> None:
    assert line_level(line) == level


def test_a_java_stack_trace_is_one_error_record_of_its_own_service() -> None:
    trace = [
        ("checkout", 10.0, "ERROR o.a.c.c.C.[dispatcherServlet]#175 Servlet.service() threw exception"),
        ("checkout", 10.0, "java.lang.IllegalStateException: payment declined"),
        ("cart", 10.0, "INFO c.CartController#20 cart 7 read"),  # another pod's line in between
        ("checkout", 10.0, "\tat com.shop.PaymentClient.charge(PaymentClient.java:88)"),
        ("checkout", 10.0, "\tat com.shop.CheckoutService.place(CheckoutService.java:41)"),
        ("checkout", 10.0, "Caused by: java.net.SocketTimeoutException: Read timed out"),
        ("checkout", 10.0, "\t... 12 more"),
        ("checkout", 11.0, "INFO c.CheckoutController#30 order 8 placed"),
        ("checkout", 30.0, "java.lang.IllegalStateException: logged on its own"),
        ("checkout", 30.0, "\tat com.shop.Reaper.run(Reaper.java:9)"),
    ]
    records = list(fold_records(trace))
    checkout = sorted((r.time, r.level, r.message.split()[0]) for r in records if r.entity == "checkout")
    assert checkout == [
        (10.0, "error", "ERROR"),
        (11.0, "info", "INFO"),
        (30.0, "error", "java.lang.IllegalStateException:"),  # an exception without a log line
    ]
    assert [r.message for r in records if r.entity == "cart"] == ["INFO c.CartController#20 cart 7 read"]


def test_a_python_traceback_counts_once_as_its_exception() -> None:
    lines = [
        ("worker", 5.0, "Traceback (most recent call last):"),
        ("worker", 5.0, '  File "/app/worker.py", line 42, in handle'),
        ("worker", 5.0, "    charge(order)"),
        ("worker", 5.0, "ValueError: amount must be positive"),
        ("worker", 6.0, "INFO handled order 9"),
    ]
    records = list(fold_records(lines))
    assert [(r.time, r.level, r.message) for r in records] == [
        (5.0, "error", "ValueError: amount must be positive"),
        (6.0, "info", "INFO handled order 9"),
    ]


def test_a_template_never_shows_a_secret() -> None:
    miner = TemplateMiner()
    lines = [
        "ERROR c.DbClient#12 connect to postgres://app:hunter2@db:5432/orders failed password=hunter2",
        "ERROR c.DbClient#12 connect to postgres://app:s3cretpw@db:5432/orders failed password=s3cretpw",
        "WARN c.Auth#7 rejected Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
    ]
    ids = [miner.add("checkout", line) for line in lines]
    shown = " ".join(miner.template(t).detail for t in ids)
    for secret in ("hunter2", "s3cretpw", "eyJhbGciOiJIUzI1NiJ9"):
        assert secret not in shown
    assert "[REDACTED]" in shown


def test_mask_cuts_a_long_line_to_the_tokens_that_name_it() -> None:
    shape = mask("INFO start " + " ".join(f"item{i}=v{i}" for i in range(100)))
    assert shape.endswith("…") and len(shape.split()) == 21
