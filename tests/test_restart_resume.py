"""Restart resume on the embedded default (SQLite file, in-process bus, one server
process): after a crash (SIGKILL) and a restart, each side's socket resumes from the
last seq it saw and receives exactly what it missed, in order, once. Needs no
PostgreSQL or Redis, so it always runs."""
import asyncio

import pytest

from tests.scaleout import Socket, Staff, customer_token, first_topic_id, start_conversation
from tests.support.servers import ServerProcess, manage, server_env


@pytest.fixture
def server(tmp_path):
    env = server_env(
        settings="branchline.settings.demo", database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        BRANCHLINE_VAR_DIR=str(tmp_path), BRANCHLINE_ANONYMOUS_GRACE_SECONDS="600",
        BRANCHLINE_MESSAGE_RATE="1000", BRANCHLINE_MESSAGE_BURST="10000",
        BRANCHLINE_ANONYMOUS_SESSIONS_PER_MINUTE="10000",
    )
    for args in (("migrate", "--noinput", "-v", "0"), ("seed_demo",)):
        result = manage(*args, env=env, check=False)
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    process = ServerProcess(env, log_path=tmp_path / "server.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_both_sides_resume_after_the_server_is_killed(server, tmp_path):
    anna = Staff(server, "anna")

    async def scenario():
        token = customer_token(server)
        customer = await Socket.open(server, token=token)
        agent = await Socket.open(server, staff=anna)
        cid = await start_conversation(customer, first_topic_id(server))
        assert anna.accept(server, cid).status_code == 200
        await agent.send_message("Hello, this is Anna.", "hello", conversation_id=cid)
        await customer.send_message("My card is blocked.", "blocked")
        await customer.expect_stream(cid, [1, 2, 3, 4])
        await agent.expect_stream(cid, [1, 2, 3, 4])

        # The customer goes away; the agent writes 5 messages; the server crashes.
        await customer.close()
        customer_seen = customer.seqs(cid)[-1]
        for i in range(5):
            await agent.send_message(f"missed {i}", f"missed-{i}", conversation_id=cid)
        await agent.expect_stream(cid, list(range(1, 10)))
        agent_seen = agent.seqs(cid)[-1]
        server.kill()
        await agent.wait_for(lambda: agent.is_closed, "the agent's socket to drop when the server dies")

        server.start()
        customer = await Socket.open(server, token=token, resume={cid: customer_seen})
        assert customer.ready["rejected_resume"] == []
        missed = await customer.expect_stream(cid, [5, 6, 7, 8, 9])
        assert [m["text"] for m in missed] == [f"missed {i}" for i in range(5)]

        # The customer answers before the agent is back; the agent resumes too.
        await customer.send_message("Thanks!", "thanks")
        await customer.send_message("Are you there?", "there")
        agent = await Socket.open(server, staff=anna, resume={cid: agent_seen})
        assert agent.ready["rejected_resume"] == []
        missed = await agent.expect_stream(cid, [10, 11])
        assert [m["text"] for m in missed] == ["Thanks!", "Are you there?"]

        # Live again on both sides, still exactly once.
        await agent.send_message("Yes, still here.", "here", conversation_id=cid)
        await agent.expect_stream(cid, [10, 11, 12])
        await customer.expect_stream(cid, [5, 6, 7, 8, 9, 10, 11, 12])

    try:
        asyncio.run(scenario())
    except BaseException:
        print((tmp_path / "server.log").read_text(errors="replace")[-6000:])
        raise
