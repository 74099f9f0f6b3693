"""Outbound campaign control: campaigns per tenant, actions, audit and automatic blending."""
