import sys

from core.cli import main
from core.jira.outbox import deliver_after_commit

# A command returns once the registry committed; Jira calls it queued are delivered by the
# webhook server's background job or `python -m core jira sync`, never waited on here.
deliver_after_commit(False)
sys.exit(main())
