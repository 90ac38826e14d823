"""The audit service: economic responsibility audits (经济责任审计) and supervision (监督)."""
